"""`decompose card` and `decompose schema`."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from decompose.api import Decomposer
from decompose.cli.common import (
    DEFAULT_MAX_REASKS,
    DEFAULT_MODEL,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    AllowPrivateUrlsOption,
    BaseUrlOption,
    CacheOption,
    FormatOption,
    MaxBytesOption,
    MaxReasksOption,
    MaxTokensPerCardOption,
    ModelOption,
    ModeOption,
    NoCacheOption,
    OutOption,
    RecordOption,
    ReplayOption,
    RetriesOption,
    TimeoutOption,
    checked_format,
    emit,
    reported_errors,
)
from decompose.extract import DEFAULT_MAX_INPUT_TOKENS
from decompose.llm import LLMSettings
from decompose.render import render
from decompose.schema import answer_schema, decomposition_schema
from decompose.sources import MAX_CARD_BYTES

MaxInputTokensOption = Annotated[
    int,
    typer.Option(
        "--max-input-tokens",
        help="Estimated prompt tokens per request (characters / 4, non-ASCII counted 1 each); a longer "
        "card is decomposed in parts of whole sections and the records merged.",
    ),
]
StrictOption = Annotated[
    bool,
    typer.Option("--strict", help="Drop records not backed by the card; fail (exit 1) when none is left."),
]

CARD_EXAMPLES = (
    "**Examples**\n\n"
    "`decompose card Qwen/Qwen3-Embedding-4B`\n\n"
    "`decompose card https://huggingface.co/datasets/bigcode/the-stack-v2 -f json -o stack.json`\n\n"
    "`decompose card fixtures/cards/qwen3-embedding-4b.md --replay fixtures/exchanges`\n\n"
    "`cat README.md | decompose card - --base-url http://localhost:11434/v1 --model qwen3:8b`"
)


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
    model: ModelOption = DEFAULT_MODEL,
    base_url: BaseUrlOption = None,
    mode: ModeOption = "auto",
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
    cache: CacheOption = None,
    no_cache: NoCacheOption = False,
    replay: ReplayOption = None,
    record: RecordOption = None,
    retries: RetriesOption = DEFAULT_RETRIES,
    max_reasks: MaxReasksOption = DEFAULT_MAX_REASKS,
    max_tokens_per_card: MaxTokensPerCardOption = None,
    max_bytes: MaxBytesOption = MAX_CARD_BYTES,
    allow_private_urls: AllowPrivateUrlsOption = False,
    max_input_tokens: MaxInputTokensOption = DEFAULT_MAX_INPUT_TOKENS,
    strict: StrictOption = False,
) -> None:
    """Decompose each SOURCE's card into capability records, each checked against the card text.

    Sources are processed in order and the first failure stops the run: nothing is written to
    `--out` unless every source succeeded. Several sources print a JSON array, YAML documents or
    Markdown sections.
    """
    with reported_errors():
        output_format = checked_format(fmt)
        settings = LLMSettings(
            model=model,
            base_url=base_url,
            mode=mode,
            timeout=timeout,
            replay_dir=replay,
            record_dir=record,
            transport_retries=retries,
            max_reasks=max_reasks,
        )
        with Decomposer(
            settings,
            cache_path=cache,
            use_cache=not no_cache,
            max_bytes=max_bytes,
            allow_private_urls=allow_private_urls,
            max_tokens_per_card=max_tokens_per_card,
            strict=strict,
            max_input_tokens=max_input_tokens,
        ) as decomposer:
            results = [decomposer.decompose(source, stdin=sys.stdin.buffer) for source in sources]
        emit(render(results, output_format), out)


def schema(
    answer: Annotated[bool, typer.Option("--answer", help="Print the schema of the LLM's answer instead.")] = False,
    out: OutOption = None,
) -> None:
    """Print the JSON Schema (Draft 2020-12) of a Decomposition, as `card -f json` prints it."""
    with reported_errors():
        emit(json.dumps(answer_schema() if answer else decomposition_schema(), indent=2) + "\n", out)
