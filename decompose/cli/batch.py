"""`decompose batch`: a list of sources, decomposed concurrently, resumable, with a cost summary."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from types import TracebackType
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from decompose.batch import (
    CARDS_PER_REQUEST,
    DEFAULT_CONCURRENCY,
    Batch,
    BatchReport,
    JsonlFile,
    ResultSink,
    StreamSink,
    failures_text,
    read_source_list,
    summary_lines,
)
from decompose.cli.common import (
    PriceInOption,
    PriceOutOption,
    RunOptions,
    examples,
    reported_errors,
    with_options,
)
from decompose.errors import DecomposeError, InputError
from decompose.files import atomic_write_text
from decompose.llm import is_openai_endpoint
from decompose.llm.limits import RateLimiter
from decompose.pricing import price_for

BATCH_EXAMPLES = examples(
    "`decompose batch models.txt --out results.jsonl` (run it again after an interruption: it resumes)",
    "`decompose batch models.txt -o results.jsonl --concurrency 16 --rpm 500 --tpm 200000 --failures failed.txt`",
    "`decompose batch failed.txt -o results.jsonl` (the failures file is itself a list)",
    "`ls cards/*.md | decompose batch - --base-url http://localhost:8000/v1 -m qwen3-8b --price-in 0 --price-out 0`",
)

SourceListArgument = Annotated[
    str,
    typer.Argument(
        metavar="FILE|-",
        help="A file with one source per line (any form `card` takes; blank lines and # comments are "
        "skipped), or '-' to read the list from standard input.",
        show_default=False,
    ),
]
BatchOutOption = Annotated[
    Optional[Path],
    typer.Option(
        "--out",
        "-o",
        help="Append results to FILE as JSON Lines (one Decomposition per line); a rerun skips the sources "
        "already in it (listed in FILE.journal). Default: standard output, without resuming.",
    ),
]
FailuresOption = Annotated[
    Optional[Path],
    typer.Option("--failures", help="Write the failed sources to FILE, each under a # comment with its reason."),
]
ConcurrencyOption = Annotated[
    int, typer.Option("--concurrency", "-j", min=1, max=1024, help="LLM requests out at once.")
]
RpmOption = Annotated[
    Optional[float], typer.Option("--rpm", min=0.001, help="At most this many LLM requests per minute, paced evenly.")
]
TpmOption = Annotated[
    Optional[float],
    typer.Option(
        "--tpm", min=1, help="At most this many tokens per minute, counted as OpenAI does: prompt + max output."
    ),
]


@with_options(RunOptions)
def batch(
    source_list: SourceListArgument,
    out: BatchOutOption = None,
    failures: FailuresOption = None,
    concurrency: ConcurrencyOption = DEFAULT_CONCURRENCY,
    rpm: RpmOption = None,
    tpm: TpmOption = None,
    price_in: PriceInOption = None,
    price_out: PriceOutOption = None,
    *,
    options: RunOptions,
) -> None:
    """Decompose every source in a list, several at once; one card's failure never stops the others.

    Progress (done, cached, failed, tokens, ETA) shows on stderr when run in a terminal; a summary with
    usage and cost ends every run. Exit code 0 when every source succeeded, 1 when any failed, 2 for a
    bad list or option, 130 when interrupted (finished cards are kept: rerun to resume).
    """
    with reported_errors():
        sources = read_source_list(source_list, stdin=sys.stdin.buffer)
        if failures is not None and not failures.parent.is_dir():
            raise InputError(f"cannot write {failures}: directory {failures.parent} does not exist; create it first")
        limiter = RateLimiter(rpm=rpm, tpm=tpm, in_flight=concurrency)
        with options.decomposer(limiter=limiter) as decomposer:
            openai_endpoint = is_openai_endpoint(decomposer.settings.base_url or "")
            price = price_for(options.model, openai_endpoint=openai_endpoint, price_in=price_in, price_out=price_out)
            sink: ResultSink = JsonlFile(out) if out is not None else StreamSink(sys.stdout)
            try:
                runner = Batch(decomposer, sink, workers=CARDS_PER_REQUEST * concurrency)
                fatal = _run(runner, sources)
            finally:
                sink.close()
        report = runner.report
        if failures is not None:
            atomic_write_text(failures, failures_text(report))
        for line in summary_lines(report, price, model=options.model, output=str(out) if out else None):
            typer.echo(line, err=True)
        if failures is not None and report.failures:
            typer.echo(f"failed sources written to {failures}: rerun them with 'decompose batch {failures}'", err=True)
        if fatal is not None:
            raise fatal
    raise typer.Exit(130 if report.interrupted else 1 if report.failures else 0)


def _run(runner: Batch, sources: list[str]) -> DecomposeError | None:
    """Run to the end, Ctrl-C or a fault no card survives; the report holds what got done either way."""
    interactive = sys.stdout.isatty() and sys.stderr.isatty()
    with ProgressBar(Console(stderr=True) if interactive else None) as bar:
        runner.on_progress = bar.update
        try:
            asyncio.run(runner.run(sources))
        except KeyboardInterrupt:
            runner.report.interrupted = True
        except DecomposeError as error:
            return error
    return None


class ProgressBar:
    """The live bar on `console`; nothing at all without one (logs and pipes stay clean)."""

    def __init__(self, console: Console | None) -> None:
        self._progress = (
            Progress(
                TextColumn("decompose batch"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[counts]}"),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=console,
            )
            if console is not None
            else None
        )
        self._task: TaskID | None = None

    def update(self, report: BatchReport) -> None:
        if self._progress is None:
            return
        counts = (
            f"cached {report.cached}  failed {len(report.failures)}  "
            f"{report.usage.prompt_tokens + report.usage.completion_tokens:,} tokens"
        )
        if self._task is None:
            self._task = self._progress.add_task("batch", total=report.todo, counts=counts)
        self._progress.update(self._task, completed=report.settled, counts=counts)

    def __enter__(self) -> ProgressBar:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _error: BaseException | None, _tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
