"""`decompose compare A B`: an "A vs B" page from two decomposed cards."""

from __future__ import annotations

import sys
from datetime import date, datetime, timezone
from typing import Annotated, Optional

import typer
from pydantic import ValidationError

from decompose.cli.common import OutOption, RunOptions, emit, examples, reported_errors, with_options
from decompose.compare import DEFAULT_TOP, PAGE_FORMATS, PageFormat, Weights, compare_sources, render_comparison
from decompose.compare.model import COMPONENTS
from decompose.errors import InputError

COMPARE_EXAMPLES = examples(
    "`decompose compare Qwen/Qwen3-Embedding-4B https://huggingface.co/datasets/bigcode/the-stack-v2`",
    "`decompose compare A.md B.md -f html -o a-vs-b.html --top 3`",
    "`decompose compare fixtures/cards/qwen3-embedding-4b.md fixtures/cards/the-stack-v2.md "
    "--replay fixtures/exchanges --as-of 2025-09-01`",
    "`decompose compare A B -f json --weights adoption=0,quality=2 --strict`",
)


@with_options(RunOptions)
def compare(
    source_a: Annotated[str, typer.Argument(help="The first artifact: any SOURCE that `decompose card` takes.")],
    source_b: Annotated[str, typer.Argument(help="The second artifact.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="Page format: md, html or json.")] = "md",
    out: OutOption = None,
    top: Annotated[
        int, typer.Option("--top", min=0, help="Capabilities shown in full per side; the rest as '+N more'.")
    ] = DEFAULT_TOP,
    as_of: Annotated[
        Optional[str],
        typer.Option(
            "--as-of",
            metavar="YYYY-MM-DD",
            help="Reference date for freshness [default: today, UTC]. Pin it to get the same page on any day.",
        ),
    ] = None,
    weights: Annotated[
        Optional[str],
        typer.Option(
            "--weights",
            metavar="NAME=W,...",
            help="Rank weights for adoption, quality, ecosystem, freshness [default: 0.3,0.3,0.2,0.2]; "
            "names left out keep their default, 0 drops one.",
        ),
    ] = None,
    *,
    options: RunOptions,
) -> None:
    """Compare two artifacts: rank, sub-scores with their reasons, capabilities, matched needs and a verdict.

    Both cards are decomposed (from the cache when possible), scored by the formula in docs/scoring.md
    and rendered as one page. The same cards, records, `--as-of` date and weights give the same page,
    byte for byte. Nothing is written to `--out` unless both sources succeeded.
    """
    with reported_errors():
        page_format = checked_page_format(fmt)
        reference_day = parse_as_of(as_of)
        chosen_weights = parse_weights(weights)
        if source_a == "-" and source_b == "-":
            raise InputError("only one SOURCE can be '-' (standard input can be read once); save the other to a file")
        with options.decomposer() as decomposer:
            comparison = compare_sources(
                decomposer, source_a, source_b, as_of=reference_day, weights=chosen_weights, stdin=sys.stdin.buffer
            )
        emit(render_comparison(comparison, page_format, top=top), out)


def checked_page_format(fmt: str) -> PageFormat:
    if fmt not in PAGE_FORMATS:
        raise InputError(f"unknown format {fmt!r} for compare: use one of {', '.join(PAGE_FORMATS)}")
    return fmt  # type: ignore[return-value]


def parse_as_of(text: str | None) -> date:
    if text is None:
        return datetime.now(timezone.utc).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"--as-of {text!r} is not a date: use YYYY-MM-DD, e.g. 2025-09-01") from None


def parse_weights(text: str | None) -> Weights:
    """`adoption=0.4,quality=0.3`: names left out keep their defaults; the weights may not all be 0."""
    if text is None:
        return Weights()
    given: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = item.partition("=")
        name = name.strip().lower()
        if name not in COMPONENTS:
            raise InputError(f"--weights: unknown sub-score {name!r}: use {', '.join(COMPONENTS)} (e.g. quality=0.5)")
        try:
            given[name] = float(value)
        except ValueError:
            raise InputError(f"--weights: {item!r} needs a number after '=', e.g. {name}=0.5") from None
    try:
        chosen = Weights(**given)
    except ValidationError:
        raise InputError(f"--weights {text!r}: each weight must be a finite number of 0 or more") from None
    if not any(chosen.of(name) > 0 for name in COMPONENTS):
        raise InputError(f"--weights {text!r}: at least one weight must be above 0")
    return chosen
