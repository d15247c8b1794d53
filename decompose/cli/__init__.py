"""The `decompose` command: a thin Typer layer over the library, one module per command.

Every failure a user can cause or meet ends as one line on stderr, `decompose: error: ...`, with
exit code 2 for bad input or usage and 1 for endpoint, LLM or cache failures; never a traceback.
"""

from __future__ import annotations

import logging
import os
import sys

# huggingface_hub's telemetry fetches a registry from the hub (huggingface.co unless HF_ENDPOINT
# says otherwise) while building its user agent: a request nobody asked for. It reads this at
# import, so it is set before anything imports huggingface_hub; an explicit user setting wins.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import typer  # noqa: E402

from decompose.cli.batch import BATCH_EXAMPLES, batch  # noqa: E402
from decompose.cli.cache import cache_app  # noqa: E402
from decompose.cli.card import CARD_EXAMPLES, SCHEMA_EXAMPLES, card, schema  # noqa: E402
from decompose.cli.check import CHECK_EXAMPLES, check  # noqa: E402
from decompose.cli.common import examples  # noqa: E402
from decompose.cli.compare import COMPARE_EXAMPLES, compare  # noqa: E402

app = typer.Typer(
    name="decompose",
    help="Decompose AI model and dataset cards into capability records checked against the card.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    epilog=examples(
        "`decompose card Qwen/Qwen3-Embedding-4B`",
        "`decompose compare Qwen/Qwen3-Embedding-4B https://huggingface.co/datasets/bigcode/the-stack-v2`",
        "`decompose batch models.txt -o results.jsonl`",
        "`decompose check qwen.json --source Qwen/Qwen3-Embedding-4B`",
        "`decompose card --help` (each command lists its options and examples)",
    ),
)
app.command(epilog=CARD_EXAMPLES)(card)
app.command(epilog=SCHEMA_EXAMPLES)(schema)
app.command(epilog=COMPARE_EXAMPLES)(compare)
app.command(epilog=BATCH_EXAMPLES)(batch)
app.command(epilog=CHECK_EXAMPLES)(check)
app.add_typer(cache_app, name="cache")


def main() -> None:
    """The console script: run the command, then leave without tearing the interpreter down.

    Every command has closed and synced its outputs and closed the cache by the time it returns;
    what a normal exit adds is freeing the thousands of classes openai and pydantic built, one by
    one: 0.3-0.5 s after every run that asked an LLM (bench/RESULTS.md). Typer always ends with
    SystemExit; its code becomes the exit status as Python itself would make it.
    """
    try:
        app()
    except SystemExit as leaving:
        status = _exit_status(leaving.code)
    else:
        status = 0
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # the reader is gone or the stream was closed: nothing to keep
            pass
    os._exit(status)


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1
