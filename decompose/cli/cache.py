"""`decompose cache ls|show|clear`: look into the results cache."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from decompose.cli.common import CacheOption, FormatOption, checked_format, reported_errors
from decompose.render import render
from decompose.store import Store, default_cache_path

T = TypeVar("T")

cache_app = typer.Typer(help="Inspect and clear the results cache.", no_args_is_help=True)


def with_store(cache: Path | None, action: Callable[[Store], T]) -> T:
    with Store(cache or default_cache_path()) as store:
        return action(store)


@cache_app.command("ls")
def cache_ls(cache: CacheOption = None) -> None:
    """List cached decompositions, newest first."""
    with reported_errors():
        entries = with_store(cache, lambda store: store.entries())
        for entry in entries:
            typer.echo(
                f"{entry.key[:12]}  {entry.created_at}  {entry.artifact_id}  "
                f"{entry.capabilities} capabilities ({entry.grounded} grounded)  "
                f"{entry.prompt_tokens + entry.completion_tokens} tokens"
            )
        if not entries:
            typer.echo("the cache is empty", err=True)


@cache_app.command("show")
def cache_show(
    key: Annotated[str, typer.Argument(help="A cache key or a unique prefix of one (see 'cache ls').")],
    fmt: FormatOption = "json",
    cache: CacheOption = None,
) -> None:
    """Print one cached decomposition."""
    with reported_errors():
        output_format = checked_format(fmt)
        decomposition = with_store(cache, lambda store: store.load(key))
        sys.stdout.write(render([decomposition], output_format))


@cache_app.command("clear")
def cache_clear(cache: CacheOption = None) -> None:
    """Delete every cached decomposition."""
    with reported_errors():
        removed = with_store(cache, lambda store: store.clear())
        typer.echo(f"removed {removed} cached decompositions", err=True)
