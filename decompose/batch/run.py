"""Many sources through one `Decomposer` at once: asyncio workers, each card on its own.

asyncio rather than threads: requests wait on the network, not the CPU, and tasks can be cancelled
cleanly on Ctrl-C (a thread blocked in a request cannot); bench/batch_engines.py measured both.
One card's failure is recorded with its one-line reason and the run goes on; only faults that no
card could survive stop it: no API key (`ConfigError`) or an output that cannot be written.
A result line and its journal line are written with no `await` between them, so cancelling the
workers can never split them.

`--concurrency N` caps the LLM requests out at once (the limiter's `in_flight`) and runs
`CARDS_PER_REQUEST * N` workers: while a card's request is out, other cards are being read, checked
and stored, and a slot freed by an answer goes straight to a card whose request is ready.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Sequence

from decompose.api import Decomposer
from decompose.batch.output import ResultSink
from decompose.batch.report import BatchReport
from decompose.errors import ConfigError, DecomposeError, InputError, LLMError

DEFAULT_CONCURRENCY = 8
"""LLM requests out at once: well inside the request limits of a hosted API's lowest paid tier."""
CARDS_PER_REQUEST = 2
"""Cards in progress per request slot (see the module docstring)."""


class Batch:
    """One batch run; `report` is readable at any time, also after an interruption."""

    def __init__(
        self,
        decomposer: Decomposer,
        sink: ResultSink,
        *,
        workers: int = CARDS_PER_REQUEST * DEFAULT_CONCURRENCY,
        on_progress: Callable[[BatchReport], None] | None = None,
    ) -> None:
        """`workers`: cards in progress at once; cap the requests with the decomposer's limiter."""
        if workers < 1:
            raise InputError(f"a batch needs at least 1 worker, got {workers}")
        self.decomposer = decomposer
        self.sink = sink
        self.workers = workers
        self.report = BatchReport()
        self.on_progress = on_progress

    async def run(self, sources: Sequence[str]) -> BatchReport:
        """Decompose every source not already in the sink; returns when all are done or failed."""
        todo = [source for source in sources if source not in self.sink.finished]
        self.report.listed, self.report.skipped = len(sources), len(sources) - len(todo)
        self.report.started_at = time.monotonic()
        self._notify()
        pending = iter(todo)
        tasks = [asyncio.create_task(self._work(pending)) for _ in range(min(self.workers, len(todo)))]
        try:
            if tasks:
                finished, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
                for task in finished:
                    if (fatal := task.exception()) is not None:
                        raise fatal
        except asyncio.CancelledError:
            self.report.interrupted = True
            raise
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.report.finished_at = time.monotonic()
        return self.report

    async def _work(self, pending: Iterator[str]) -> None:
        for source in pending:  # one iterator shared by every worker: each source is taken once
            await self._one(source)

    async def _one(self, source: str) -> None:
        try:
            outcome = await self.decomposer.adecompose_outcome(source)
        except ConfigError:
            raise
        except DecomposeError as error:
            self.report.fail(source, _reason(error))
        except Exception as error:  # a bug met on one card must not stop the others
            self.report.fail(source, f"unexpected {type(error).__name__}: {error}")
        else:
            self.sink.write(source, outcome.decomposition)
            self.report.record(outcome)
        self._notify()

    def _notify(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.report)


def _reason(error: DecomposeError) -> str:
    """The error without the card name an LLMError carries: the summary puts the source first."""
    if isinstance(error, LLMError):
        return f"{error.step}: {error.cause}" if error.step else error.cause
    return str(error)
