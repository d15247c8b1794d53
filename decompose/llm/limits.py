"""Client-side rate limits (`--rpm`, `--tpm`) and the pause every worker honours after a 429.

One `RateLimiter` is shared by every worker of a run, asyncio tasks and threads alike. A worker
books the next free slot under a lock and sleeps outside it, so the limiter never blocks an event
loop and no thread spins. Slots are paced evenly (`--rpm 600` lets one request go every 0.1 s)
rather than released in bursts: OpenAI enforces per-minute limits over shorter windows too.

Tokens are counted the way OpenAI admits a request: the prompt estimated from its length plus the
whole `max_tokens` budget. Staying under `--tpm` here therefore means no token 429 there, at the
price of some headroom left unused when answers are shorter than their budget.

The pause is a gate: when the server says "slow down" to one worker, `pause` moves the gate and
every worker waits for it before its next request, instead of all of them hammering on.

`in_flight` caps the requests awaiting an answer at once (asyncio callers; threads are capped by
their pool). A batch keeps more cards than that in progress, so reading, checking and storing
cards happens while the requests are out, and a freed slot is taken by a card already prepared.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from decompose.errors import ConfigError

CHARS_PER_TOKEN = 4
"""OpenAI's rule of thumb for English text; only used to estimate a prompt before sending it."""


class RateLimiter:
    """Paces requests to `rpm` per minute and estimated tokens to `tpm` per minute, with at most
    `in_flight` requests out at once; None = no limit."""

    def __init__(
        self,
        *,
        rpm: float | None = None,
        tpm: float | None = None,
        in_flight: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        for name, value in (("--rpm", rpm), ("--tpm", tpm), ("--concurrency", in_flight)):
            if value is not None and value <= 0:
                raise ConfigError(f"{name} must be a positive number, got {value:g}; leave it out for no limit")
        self.rpm = rpm
        self.tpm = tpm
        self.in_flight = in_flight
        self._slots: asyncio.Semaphore | None = None
        self._slots_loop: asyncio.AbstractEventLoop | None = None
        self._clock = clock
        self._lock = threading.Lock()
        self._next_request = 0.0
        self._next_tokens = 0.0
        self._paused_until = 0.0

    def reserve(self, tokens: int = 0) -> float:
        """Book the next slot for a request of about `tokens` tokens; returns the seconds until it."""
        with self._lock:
            now = self._clock()
            start = max(now, self._paused_until, self._next_request, self._next_tokens)
            if self.rpm is not None:
                self._next_request = start + 60.0 / self.rpm
            if self.tpm is not None:
                self._next_tokens = start + tokens * 60.0 / self.tpm
            return start - now

    def slot(self) -> AbstractAsyncContextManager[Any]:
        """Hold one of the `in_flight` request slots while a request is out (the running loop's own)."""
        if self.in_flight is None:
            return contextlib.nullcontext()
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots_loop is not loop:
            self._slots, self._slots_loop = asyncio.Semaphore(self.in_flight), loop
        return self._slots

    def pause(self, seconds: float) -> None:
        """Hold every worker for `seconds` from now (a pause already longer is kept)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def paused_for(self) -> float:
        """Seconds left before the gate opens; 0 when it is open."""
        with self._lock:
            return max(self._paused_until - self._clock(), 0.0)

    def wait(self, tokens: int = 0) -> None:
        """Block this thread until a request of about `tokens` tokens may go."""
        delay = self.reserve(tokens)
        while delay > 0:
            time.sleep(delay)
            delay = self.paused_for()  # a 429 seen meanwhile moves the gate past our slot

    async def await_turn(self, tokens: int = 0) -> None:
        """`wait` for asyncio callers: sleeps without blocking the event loop."""
        delay = self.reserve(tokens)
        while delay > 0:
            await asyncio.sleep(delay)
            delay = self.paused_for()


def estimate_tokens(messages: Iterable[Mapping[str, str]], max_output_tokens: int) -> int:
    """What a request counts against a token limit at admission: prompt estimate + output budget."""
    characters = sum(len(message.get("content") or "") for message in messages)
    return -(-characters // CHARS_PER_TOKEN) + max_output_tokens
