"""`decompose cache ls|show|stats|clear`: look into the results cache."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from decompose.cli.common import (
    CacheOption,
    FormatOption,
    PriceInOption,
    PriceOutOption,
    checked_format,
    examples,
    reported_errors,
)
from decompose.llm import is_openai_endpoint
from decompose.pricing import cost_text, price_for
from decompose.render import render
from decompose.store import CacheStats, Store, default_cache_path

T = TypeVar("T")

cache_app = typer.Typer(
    help="Inspect and clear the results cache.",
    no_args_is_help=True,
    epilog=examples("`decompose cache ls`", "`decompose cache stats --cache /tmp/decompose.sqlite3`"),
)


def with_store(cache: Path | None, action: Callable[[Store], T]) -> T:
    with Store(cache or default_cache_path()) as store:
        return action(store)


@cache_app.command("ls", epilog=examples("`decompose cache ls`", "`DECOMPOSE_CACHE=run.sqlite3 decompose cache ls`"))
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


@cache_app.command("show", epilog=examples("`decompose cache show 3f2a9c`", "`decompose cache show 3f2a9c -f md`"))
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


@cache_app.command(
    "stats", epilog=examples("`decompose cache stats`", "`decompose cache stats --price-in 0.15 --price-out 0.6`")
)
def cache_stats(cache: CacheOption = None, price_in: PriceInOption = None, price_out: PriceOutOption = None) -> None:
    """What the cache holds and what it cost: rows, cards, capabilities, tokens, estimated cost, size.

    Cost uses OpenAI's list prices for well-known models at OpenAI, or --price-in/--price-out for
    every model; rows of other models are counted as unknown cost, never as free.
    """
    with reported_errors():
        path = cache or default_cache_path()
        stats = with_store(path, lambda store: store.stats())
        for line in stats_lines(path, stats, price_in, price_out):
            typer.echo(line)


def stats_lines(path: Path, stats: CacheStats, price_in: float | None, price_out: float | None) -> list[str]:
    share = f"{stats.grounded / stats.capabilities:.0%}" if stats.capabilities else "n/a"
    lines = [
        f"cache: {path}",
        f"rows: {stats.rows:,} ({stats.cards:,} cards)",
        f"capabilities: {stats.capabilities:,} ({stats.grounded:,} grounded, {share})",
        f"requests: {stats.requests:,}",
        f"tokens: {stats.prompt_tokens:,} prompt + {stats.completion_tokens:,} completion",
    ]
    known_cost, unpriced = 0.0, 0
    if stats.by_model:
        lines.append("by model:")
    for usage in stats.by_model:
        price = price_for(
            usage.model, openai_endpoint=is_openai_endpoint(usage.endpoint), price_in=price_in, price_out=price_out
        )
        known_cost += price.cost(usage.prompt_tokens, usage.completion_tokens) if price else 0.0
        unpriced += price is None
        lines.append(
            f"  {usage.model} at {usage.endpoint}: {usage.rows:,} rows, {usage.requests:,} requests, "
            f"{usage.prompt_tokens:,} + {usage.completion_tokens:,} tokens, "
            + cost_text(price, usage.prompt_tokens, usage.completion_tokens, model=usage.model)
        )
    if not unpriced:
        lines.append(f"estimated cost: ${known_cost:,.4f}")
    elif unpriced < len(stats.by_model):
        lines.append(f"estimated cost: ${known_cost:,.4f} plus the unknown cost of {unpriced} model(s) without a price")
    else:
        lines.append("estimated cost: unknown (no model has a price; pass --price-in and --price-out)")
    size = stats.size_bytes
    lines.append(f"size on disk: {size / 2**20:.1f} MB" if size >= 2**20 else f"size on disk: {size:,} bytes")
    return lines


@cache_app.command("clear", epilog=examples("`decompose cache clear`", "`decompose cache clear --cache run.sqlite3`"))
def cache_clear(cache: CacheOption = None) -> None:
    """Delete every cached decomposition."""
    with reported_errors():
        removed = with_store(cache, lambda store: store.clear())
        typer.echo(f"removed {removed} cached decompositions", err=True)
