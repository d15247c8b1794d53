"""The shared rate limiter: pacing by requests and tokens, and the pause that holds every worker."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time

import pytest

from decompose.errors import ConfigError
from decompose.llm.limits import RateLimiter, estimate_tokens


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_requests_are_paced_evenly_at_the_rpm() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rpm=120, clock=clock)
    delays = [limiter.reserve() for _ in range(4)]
    assert delays == pytest.approx([0.0, 0.5, 1.0, 1.5])
    clock.now += 10  # idle time is not saved up for a burst later
    assert limiter.reserve() == 0.0
    assert limiter.reserve() == pytest.approx(0.5)


def test_tokens_are_paced_by_each_requests_size() -> None:
    clock = FakeClock()
    limiter = RateLimiter(tpm=6000, clock=clock)
    assert limiter.reserve(3000) == 0.0
    assert limiter.reserve(600) == pytest.approx(30.0)  # the 3000 tokens used half a minute
    assert limiter.reserve(10) == pytest.approx(36.0)


def test_the_slower_of_both_limits_wins() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rpm=60, tpm=60_000, clock=clock)
    limiter.reserve(100)
    assert limiter.reserve(100) == pytest.approx(1.0)  # rpm-bound
    assert limiter.reserve(10_000) == pytest.approx(2.0)
    assert limiter.reserve(100) == pytest.approx(12.0)  # tpm-bound after a big request


def test_without_limits_nothing_waits_but_a_pause_still_holds_everyone() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock)
    assert [limiter.reserve(10**9) for _ in range(3)] == [0.0, 0.0, 0.0]
    limiter.pause(2.0)
    limiter.pause(0.5)  # a shorter pause never cuts a longer one short
    assert limiter.paused_for() == pytest.approx(2.0)
    assert limiter.reserve() == pytest.approx(2.0)
    assert limiter.reserve() == pytest.approx(2.0)
    clock.now += 2.5
    assert limiter.paused_for() == 0.0 and limiter.reserve() == 0.0


def test_a_pause_during_a_wait_holds_a_worker_that_already_booked_its_slot() -> None:
    limiter = RateLimiter(rpm=600)
    limiter.reserve()  # the next slot is 0.1 s away
    threading.Timer(0.02, limiter.pause, args=(0.4,)).start()
    started = time.monotonic()
    limiter.wait()
    assert time.monotonic() - started >= 0.38


def test_threads_and_tasks_share_one_pace() -> None:
    limiter = RateLimiter(rpm=1200)  # one request per 0.05 s
    sent: list[float] = []
    lock = threading.Lock()

    def stamp() -> None:
        with lock:
            sent.append(time.monotonic())

    def thread_worker() -> None:
        for _ in range(3):
            limiter.wait()
            stamp()

    async def task_worker() -> None:
        for _ in range(3):
            await limiter.await_turn()
            stamp()

    async def tasks() -> None:
        await asyncio.gather(task_worker(), task_worker())

    threads = [threading.Thread(target=thread_worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    asyncio.run(tasks())
    for thread in threads:
        thread.join()
    sent.sort()
    assert len(sent) == 12
    gaps = [later - earlier for earlier, later in itertools.pairwise(sent)]
    assert min(gaps) >= 0.02  # unpaced, several would land within a millisecond
    assert sent[-1] - sent[0] >= 11 * 0.05 - 0.02


def test_token_estimate_counts_the_prompt_and_the_whole_output_budget() -> None:
    messages = [{"role": "system", "content": "x" * 400}, {"role": "user", "content": "y" * 401}]
    assert estimate_tokens(messages, 4096) == 100 + 101 + 4096


def test_a_limit_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="--rpm must be a positive number"):
        RateLimiter(rpm=0)
    with pytest.raises(ConfigError, match="--tpm must be a positive number"):
        RateLimiter(tpm=-5)
    with pytest.raises(ConfigError, match="--concurrency must be a positive number"):
        RateLimiter(in_flight=0)


def test_at_most_in_flight_requests_are_out_at_once_in_every_event_loop() -> None:
    limiter = RateLimiter(in_flight=2)
    out = peak = 0

    async def request() -> None:
        nonlocal out, peak
        async with limiter.slot():
            out += 1
            peak = max(peak, out)
            await asyncio.sleep(0.02)
            out -= 1

    async def many() -> None:
        await asyncio.gather(*(request() for _ in range(6)))

    for _ in range(2):  # a new loop each time, as a second `asyncio.run` would have
        asyncio.run(many())
    assert peak == 2
