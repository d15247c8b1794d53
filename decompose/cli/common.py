"""What every command shares: option types, error reporting, output, the run settings.

Each command lives in its own module and is a thin layer over the library; these helpers keep
their options and error handling identical, so flags mean the same thing everywhere.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

from decompose.errors import DecomposeError, InputError
from decompose.files import atomic_write_text
from decompose.render import FORMATS, Format

FormatOption = Annotated[str, typer.Option("--format", "-f", help="Output format: json, md or yaml.")]
OutOption = Annotated[
    Optional[Path], typer.Option("--out", "-o", help="Write to FILE (atomically) instead of stdout.")
]
CacheOption = Annotated[
    Optional[Path],
    typer.Option("--cache", envvar="DECOMPOSE_CACHE", help="Cache file [default: platform cache dir]."),
]
NoCacheOption = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the cache.")]
ModelOption = Annotated[
    str, typer.Option("--model", "-m", envvar="DECOMPOSE_MODEL", help="Model name at the endpoint.")
]
BaseUrlOption = Annotated[
    Optional[str],
    typer.Option("--base-url", envvar="OPENAI_BASE_URL", help="OpenAI-compatible endpoint [default: OpenAI]."),
]
ModeOption = Annotated[
    str, typer.Option("--mode", help="Structured output: auto, tools, json_schema, json or md_json.")
]
TimeoutOption = Annotated[float, typer.Option("--timeout", min=1, help="Seconds per LLM request.")]
ReplayOption = Annotated[
    Optional[Path], typer.Option("--replay", help="Serve LLM exchanges from recorded fixtures in DIR; no network.")
]
RecordOption = Annotated[Optional[Path], typer.Option("--record", help="Record LLM exchanges as fixtures into DIR.")]
RetriesOption = Annotated[
    int,
    typer.Option(
        "--retries", min=0, help="Resend a request this often after 429, 5xx, a timeout or a dropped connection."
    ),
]
MaxReasksOption = Annotated[
    int, typer.Option("--max-reasks", min=0, help="Re-ask this often when an answer fails validation.")
]
MaxTokensPerCardOption = Annotated[
    Optional[int],
    typer.Option(
        "--max-tokens-per-card",
        min=1,
        help="Fail a card once its requests (failed attempts and re-asks included) used this many tokens "
        "[default: no cap].",
    ),
]
MaxBytesOption = Annotated[int, typer.Option("--max-bytes", min=1, help="Refuse a card larger than this many bytes.")]
AllowPrivateUrlsOption = Annotated[
    bool, typer.Option("--allow-private-urls", help="Let URL sources reach private, loopback and link-local addresses.")
]
PriceInOption = Annotated[
    Optional[float],
    typer.Option("--price-in", min=0, help="USD per 1M prompt tokens [default: OpenAI list price, if known]."),
]
PriceOutOption = Annotated[
    Optional[float],
    typer.Option("--price-out", min=0, help="USD per 1M completion tokens [default: OpenAI list price, if known]."),
]

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT = 120.0
DEFAULT_RETRIES = 4
DEFAULT_MAX_REASKS = 1
SECRET_VARIABLES = ("OPENAI_API_KEY", "HF_TOKEN", "GITHUB_TOKEN")
MIN_SECRET_LENGTH = 8  # shorter values are placeholders, and replacing them would mangle messages


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
