"""What every command shares: option types, the pipeline options, error reporting, output.

Each command lives in its own module and is a thin layer over the library. The options of the
pipeline (how a card is fetched, how the LLM is asked, how records are kept, where results are
cached) are defined once, as the fields of `SourceOptions` and `RunOptions`; `with_options` gives a
command those options, so a flag means the same thing, with the same default and help, everywhere.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Any, Optional, get_type_hints

import typer

from decompose.api import Decomposer
from decompose.errors import DecomposeError, InputError
from decompose.extract import DEFAULT_MAX_INPUT_TOKENS
from decompose.files import atomic_write_text
from decompose.llm import LLMSettings
from decompose.llm.limits import RateLimiter
from decompose.render import FORMATS, Format
from decompose.sources import MAX_CARD_BYTES

# Each group of shared options has its own panel in `--help`, after the command's own options.
source_option = functools.partial(typer.Option, rich_help_panel="Card source")
llm_option = functools.partial(typer.Option, rich_help_panel="LLM")
decomposition_option = functools.partial(typer.Option, rich_help_panel="Decomposition")
cache_option = functools.partial(typer.Option, rich_help_panel="Cache")
cost_option = functools.partial(typer.Option, rich_help_panel="Cost")

DEFAULT_FETCH_TIMEOUT = 30.0  # the library's own default (`load_card`, `Decomposer`)

FormatOption = Annotated[str, typer.Option("--format", "-f", help="Output format: json, md or yaml.")]
OutOption = Annotated[
    Optional[Path], typer.Option("--out", "-o", help="Write to FILE (atomically) instead of stdout.")
]
MaxBytesOption = Annotated[int, source_option("--max-bytes", min=1, help="Refuse a card larger than this many bytes.")]
AllowPrivateUrlsOption = Annotated[
    bool,
    source_option("--allow-private-urls", help="Let URL sources reach private, loopback and link-local addresses."),
]
FetchTimeoutOption = Annotated[
    float,
    source_option("--fetch-timeout", min=0.1, help="Seconds to fetch a card over the network, redirects included."),
]
ModelOption = Annotated[str, llm_option("--model", "-m", envvar="DECOMPOSE_MODEL", help="Model name at the endpoint.")]
BaseUrlOption = Annotated[
    Optional[str],
    llm_option("--base-url", envvar="OPENAI_BASE_URL", help="OpenAI-compatible endpoint [default: OpenAI]."),
]
ModeOption = Annotated[str, llm_option("--mode", help="Structured output: auto, tools, json_schema, json or md_json.")]
TimeoutOption = Annotated[float, llm_option("--timeout", min=1, help="Seconds per LLM request.")]
RetriesOption = Annotated[
    int,
    llm_option(
        "--retries", min=0, help="Resend a request this often after 429, 5xx, a timeout or a dropped connection."
    ),
]
ReplayOption = Annotated[
    Optional[Path], llm_option("--replay", help="Serve LLM exchanges from recorded fixtures in DIR; no network.")
]
RecordOption = Annotated[Optional[Path], llm_option("--record", help="Record LLM exchanges as fixtures into DIR.")]
MaxReasksOption = Annotated[
    int, decomposition_option("--max-reasks", min=0, help="Re-ask this often when an answer fails validation.")
]
MaxTokensPerCardOption = Annotated[
    Optional[int],
    decomposition_option(
        "--max-tokens-per-card",
        min=1,
        help="Fail a card once its requests (failed attempts and re-asks included) used this many tokens "
        "[default: no cap].",
    ),
]
MaxInputTokensOption = Annotated[
    int,
    decomposition_option(
        "--max-input-tokens",
        help="Estimated prompt tokens per request (characters / 4, non-ASCII counted 1 each); a longer "
        "card is decomposed in parts of whole sections and the records merged.",
    ),
]
StrictOption = Annotated[
    bool, decomposition_option("--strict", help="Drop records not backed by the card; fail (exit 1) when none is left.")
]
CacheOption = Annotated[
    Optional[Path],
    cache_option("--cache", envvar="DECOMPOSE_CACHE", help="Cache file [default: platform cache dir]."),
]
NoCacheOption = Annotated[bool, cache_option("--no-cache", help="Neither read nor write the cache.")]
PriceInOption = Annotated[
    Optional[float],
    cost_option("--price-in", min=0, help="USD per 1M prompt tokens [default: OpenAI list price, if known]."),
]
PriceOutOption = Annotated[
    Optional[float],
    cost_option("--price-out", min=0, help="USD per 1M completion tokens [default: OpenAI list price, if known]."),
]

SECRET_VARIABLES = ("OPENAI_API_KEY", "HF_TOKEN", "GITHUB_TOKEN")
MIN_SECRET_LENGTH = 8  # shorter values are placeholders, and replacing them would mangle messages


@dataclass(frozen=True)
class SourceOptions:
    """How a card is fetched: the bounds every SOURCE is held to, on every command that reads one."""

    max_bytes: MaxBytesOption = MAX_CARD_BYTES
    allow_private_urls: AllowPrivateUrlsOption = False
    fetch_timeout: FetchTimeoutOption = DEFAULT_FETCH_TIMEOUT


@dataclass(frozen=True)
class RunOptions(SourceOptions):
    """Everything a decomposing command (card, batch, compare) lets the user set about the pipeline.

    Defaults are the library's own (`LLMSettings`, `Decomposer`), so the CLI and the library agree.
    """

    model: ModelOption = LLMSettings.model
    base_url: BaseUrlOption = None
    mode: ModeOption = LLMSettings.mode
    timeout: TimeoutOption = LLMSettings.timeout
    retries: RetriesOption = LLMSettings.transport_retries
    replay: ReplayOption = None
    record: RecordOption = None
    max_reasks: MaxReasksOption = LLMSettings.max_reasks
    max_tokens_per_card: MaxTokensPerCardOption = None
    max_input_tokens: MaxInputTokensOption = DEFAULT_MAX_INPUT_TOKENS
    strict: StrictOption = False
    cache: CacheOption = None
    no_cache: NoCacheOption = False

    def decomposer(self, *, limiter: RateLimiter | None = None) -> Decomposer:
        """The one place the options become library arguments; bad values raise before any work."""
        settings = LLMSettings(
            model=self.model,
            base_url=self.base_url,
            mode=self.mode,
            timeout=self.timeout,
            replay_dir=self.replay,
            record_dir=self.record,
            transport_retries=self.retries,
            max_reasks=self.max_reasks,
        )
        return Decomposer(
            settings,
            cache_path=self.cache,
            use_cache=not self.no_cache,
            fetch_timeout=self.fetch_timeout,
            limiter=limiter,
            max_bytes=self.max_bytes,
            allow_private_urls=self.allow_private_urls,
            max_tokens_per_card=self.max_tokens_per_card,
            strict=self.strict,
            max_input_tokens=self.max_input_tokens,
        )


def with_options(kind: type[SourceOptions]) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command every field of `kind` as an option; the command receives them as `options`.

    Typer reads options from a command's signature, so the fields are spliced into it: each option is
    defined once, yet listed in the `--help` of every command that takes it.
    """
    hints = get_type_hints(kind, include_extras=True)
    keyword = inspect.Parameter.KEYWORD_ONLY
    shared = [
        inspect.Parameter(field.name, keyword, default=field.default, annotation=hints[field.name])
        for field in fields(kind)
    ]

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        signature = inspect.signature(command, eval_str=True)
        own = [parameter for name, parameter in signature.parameters.items() if name != "options"]

        @functools.wraps(command)
        def with_shared_options(**values: Any) -> None:
            options = kind(**{parameter.name: values.pop(parameter.name) for parameter in shared})
            command(**values, options=options)

        spliced = signature.replace(parameters=[*own, *shared])
        with_shared_options.__signature__ = spliced  # type: ignore[attr-defined]
        with_shared_options.__annotations__ = {name: p.annotation for name, p in spliced.parameters.items()}
        return with_shared_options

    return decorate


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn our errors into one stderr line and the exit code they carry."""
    try:
        yield
    except DecomposeError as error:
        typer.echo(f"decompose: error: {without_secrets(str(error))}", err=True)
        raise typer.Exit(error.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("decompose: interrupted", err=True)
        raise typer.Exit(130) from None


def without_secrets(message: str) -> str:
    """A server may quote a key back in its error text (OpenAI-compatible proxies do): never print one."""
    for name in SECRET_VARIABLES:
        secret = os.environ.get(name, "")
        if len(secret) >= MIN_SECRET_LENGTH:
            message = message.replace(secret, f"[{name}]")
    return message


def checked_format(fmt: str) -> Format:
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    return fmt  # type: ignore[return-value]


def emit(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        atomic_write_text(out, text)


def examples(*lines: str) -> str:
    """A `--help` epilog: each example on its own line, as code (`rich_markup_mode="markdown"`)."""
    return "**Examples**\n\n" + "\n\n".join(lines)
