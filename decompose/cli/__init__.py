"""The `decompose` command: a thin Typer layer over the library, one module per command.

Every failure a user can cause or meet ends as one line on stderr, `decompose: error: ...`, with
exit code 2 for bad input or usage and 1 for endpoint, LLM or cache failures; never a traceback.
"""

from __future__ import annotations

import typer

from decompose.cli.cache import cache_app
from decompose.cli.card import CARD_EXAMPLES, card, schema

app = typer.Typer(
    name="decompose",
    help="Decompose AI model and dataset cards into capability records checked against the card.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
app.command(epilog=CARD_EXAMPLES)(card)
app.command()(schema)
app.add_typer(cache_app, name="cache")
