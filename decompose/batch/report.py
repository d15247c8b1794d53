"""What a batch run did and spent, and the summary a person reads at the end."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from decompose.api import Outcome
from decompose.llm import Usage
from decompose.pricing import Price, cost_text


@dataclass(frozen=True)
class Failure:
    """A source that failed and its one-line reason."""

    source: str
    reason: str


@dataclass
class BatchReport:
    """Counts for the progress bar and the summary; updated as each card finishes."""

    listed: int = 0
    """Distinct sources in the list."""
    skipped: int = 0
    """Already in the output from an earlier run, so not done again."""
    done: int = 0
    cached: int = 0
    """Of `done`: answered by the cache, no request made."""
    failures: list[Failure] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    """LLM usage of the cards decomposed in this run; cached cards spent nothing now, and failed
    cards' usage is not reported by the client, so it is not counted."""
    interrupted: bool = False
    started_at: float = field(default_factory=time.monotonic)
    finished_at: float | None = None

    @property
    def todo(self) -> int:
        return self.listed - self.skipped

    @property
    def settled(self) -> int:
        """Cards finished either way in this run."""
        return self.done + len(self.failures)

    @property
    def elapsed(self) -> float:
        return (self.finished_at or time.monotonic()) - self.started_at

    def record(self, outcome: Outcome) -> None:
        self.done += 1
        if outcome.cached:
            self.cached += 1
            return
        provenance = outcome.decomposition.provenance
        self.usage += Usage(provenance.requests, provenance.prompt_tokens, provenance.completion_tokens)

    def fail(self, source: str, reason: str) -> None:
        """Keep the reason to one line: the summary and the `--failures` file are line-based."""
        self.failures.append(Failure(source, " ".join(reason.split())))


def summary_lines(report: BatchReport, price: Price | None, *, model: str, output: str | None) -> list[str]:
    """The end-of-run summary: counts, usage and cost, time, then each failure with its reason."""
    where = f" in {output}" if output else ""
    counts = (
        f"{report.listed} sources: {report.done} decomposed ({report.cached} from the cache), "
        f"{len(report.failures)} failed"
    )
    if report.skipped:
        counts += f", {report.skipped} already{where} from an earlier run"
    if (left := report.todo - report.settled) or report.interrupted:
        counts += f"; {'interrupted, ' if report.interrupted else ''}{left} not done"
        counts += " (rerun the same command to resume)" if output else ""
    usage = report.usage
    lines = [
        counts,
        f"LLM usage: {usage.requests:,} request{'' if usage.requests == 1 else 's'}, {usage.prompt_tokens:,} prompt + "
        f"{usage.completion_tokens:,} completion tokens; "
        + cost_text(price, usage.prompt_tokens, usage.completion_tokens, model=model),
        f"time: {report.elapsed:.1f} s",
    ]
    if report.failures:
        lines.append(f"failed ({len(report.failures)}):")
        lines.extend(f"  {failure.source}: {failure.reason}" for failure in report.failures)
    return lines


def failures_text(report: BatchReport) -> str:
    """The `--failures` file: each reason as a comment above its source, so the file is itself a list
    `decompose batch` can rerun."""
    return "".join(f"# {failure.reason}\n{failure.source}\n" for failure in report.failures)
