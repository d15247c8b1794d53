"""`decompose card` and `decompose schema`."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from decompose.cli.common import (
    FormatOption,
    OutOption,
    RunOptions,
    checked_format,
    emit,
    examples,
    reported_errors,
    with_options,
)
from decompose.render import render
from decompose.schema import answer_schema, decomposition_schema

CARD_EXAMPLES = examples(
    "`decompose card Qwen/Qwen3-Embedding-4B`",
    "`decompose card https://huggingface.co/datasets/bigcode/the-stack-v2 -f json -o stack.json`",
    "`decompose card fixtures/cards/qwen3-embedding-4b.md --replay fixtures/exchanges`",
    "`cat README.md | decompose card - --base-url http://localhost:11434/v1 --model qwen3:8b`",
    "`decompose card Qwen/Qwen3-Embedding-4B --strict --max-tokens-per-card 50000`",
)
SCHEMA_EXAMPLES = examples(
    "`decompose schema -o decomposition.schema.json`",
    "`decompose schema --answer` (what the LLM is asked to return)",
)


@with_options(RunOptions)
def card(
    sources: Annotated[
        list[str],
        typer.Argument(
            help="Local file, '-' for stdin, Hugging Face repo id or URL (models and datasets), "
            "GitHub repository URL, or any http(s) URL serving Markdown or HTML.",
            show_default=False,
        ),
    ],
    fmt: FormatOption = "md",
    out: OutOption = None,
    *,
    options: RunOptions,
) -> None:
    """Decompose each SOURCE's card into capability records, each checked against the card text.

    Sources are processed in order and the first failure stops the run: nothing is written to
    `--out` unless every source succeeded. Several sources print a JSON array, YAML documents or
    Markdown sections.
    """
    with reported_errors():
        output_format = checked_format(fmt)
        with options.decomposer() as decomposer:
            results = [decomposer.decompose(source, stdin=sys.stdin.buffer) for source in sources]
        emit(render(results, output_format), out)


def schema(
    answer: Annotated[bool, typer.Option("--answer", help="Print the schema of the LLM's answer instead.")] = False,
    out: OutOption = None,
) -> None:
    """Print the JSON Schema (Draft 2020-12) of a Decomposition, as `card -f json` prints it."""
    with reported_errors():
        emit(json.dumps(answer_schema() if answer else decomposition_schema(), indent=2) + "\n", out)
