"""Batch runs through the library: isolation of failures, whole lines, caching, pacing and pauses."""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from decompose.api import Decomposer
from decompose.batch import Batch, BatchReport, JsonlFile
from decompose.errors import ConfigError
from decompose.llm import LLMSettings
from decompose.llm.limits import RateLimiter
from decompose.schema import validate_decomposition
from tests.support.batch_cards import card_text, quoting_responder, requested_card, write_cards
from tests.support.openai_server import OpenAIServer, Reply, error, hang


def settings_for(server: OpenAIServer, **overrides: Any) -> LLMSettings:
    options: dict[str, Any] = {
        "base_url": server.base_url,
        "api_key": "test-key",
        "timeout": 10.0,
        "backoff_initial": 0.001,
        "backoff_max": 2.0,
        "max_reasks": 0,
        **overrides,
    }
    return LLMSettings(**options)


def run_batch(
    tmp_path: Path,
    sources: list[str],
    settings: LLMSettings,
    *,
    out: str = "out.jsonl",
    workers: int = 4,
    limiter: RateLimiter | None = None,
) -> BatchReport:
    with (
        Decomposer(settings, cache_path=tmp_path / "cache.sqlite3", limiter=limiter) as decomposer,
        JsonlFile(tmp_path / out) as sink,
    ):
        return asyncio.run(Batch(decomposer, sink, workers=workers).run(sources))


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_one_cards_failure_never_stops_the_others(tmp_path: Path) -> None:
    good = [str(path) for path in write_cards(tmp_path / "cards", 10)]
    garbage = tmp_path / "cards" / "garbage.md"
    garbage.write_text(card_text(99, garbage=True), encoding="utf-8")
    empty = tmp_path / "cards" / "empty.md"
    empty.write_text("   \n", encoding="utf-8")
    missing = str(tmp_path / "cards" / "missing.md")
    sources = [good[0], missing, *good[1:5], str(garbage), *good[5:], str(empty)]
    with OpenAIServer(responder=quoting_responder) as server:
        report = run_batch(tmp_path, sources, settings_for(server))
    assert report.done == 10 and report.cached == 0
    reasons = {failure.source: failure.reason for failure in report.failures}
    assert set(reasons) == {missing, str(garbage), str(empty)}
    assert reasons[missing].startswith("no such file")
    assert reasons[str(garbage)].startswith("extract: answer failed validation")
    assert all("\n" not in reason for reason in reasons.values())
    results = lines_of(tmp_path / "out.jsonl")
    journal = lines_of(tmp_path / "out.jsonl.journal")
    assert sorted(entry["source"] for entry in journal) == sorted(good)
    for result, entry in zip(results, journal, strict=True):
        validate_decomposition(result)
        assert result["provenance"]["cache_key"] == entry["cache_key"]
        assert Path(entry["source"]).stem == result["artifact"]["id"]
        assert {capability["grounding"] for capability in result["capabilities"]} == {"grounded"}
    assert len(server.requests) == 11  # the garbage answer cost a request too ...
    assert report.usage.requests == 10  # ... which the client does not report for a failed card
    assert report.usage.prompt_tokens == sum(result["provenance"]["prompt_tokens"] for result in results)


def test_requests_run_concurrently_up_to_the_limit(tmp_path: Path) -> None:
    sources = [str(path) for path in write_cards(tmp_path / "cards", 8)]
    with OpenAIServer(responder=quoting_responder, latency=0.4) as server:
        run_batch(tmp_path, sources, settings_for(server), workers=8, limiter=RateLimiter(in_flight=4))
    arrivals = sorted(request.received_at for request in server.requests)
    assert arrivals[3] - arrivals[0] < 0.3  # four at once ...
    assert arrivals[4] - arrivals[0] >= 0.35  # ... and the fifth only when one of them finished


def test_cached_cards_make_no_request_and_cost_nothing_now(tmp_path: Path) -> None:
    sources = [str(path) for path in write_cards(tmp_path / "cards", 6)]
    with OpenAIServer(responder=quoting_responder) as server:
        first = run_batch(tmp_path, sources, settings_for(server), out="first.jsonl")
        second = run_batch(tmp_path, sources, settings_for(server), out="second.jsonl")
    assert len(server.requests) == 6
    assert (first.done, first.cached) == (6, 0)
    assert (second.done, second.cached) == (6, 6)
    assert second.usage.requests == second.usage.prompt_tokens == 0
    assert len(lines_of(tmp_path / "second.jsonl")) == 6


def test_a_source_already_in_the_output_is_skipped(tmp_path: Path) -> None:
    sources = [str(path) for path in write_cards(tmp_path / "cards", 5)]
    with OpenAIServer(responder=quoting_responder) as server:
        run_batch(tmp_path, sources[:3], settings_for(server))
        report = run_batch(tmp_path, sources, settings_for(server))
    assert (report.listed, report.skipped, report.done) == (5, 3, 2)
    assert len(server.requests) == 5
    assert sorted(entry["source"] for entry in lines_of(tmp_path / "out.jsonl.journal")) == sorted(sources)


def test_a_429_with_retry_after_holds_every_worker(tmp_path: Path) -> None:
    """Four workers start together; the first request meets a 429 asking for 1 s. The other three
    finish their cards 0.3 s later, but their next requests must wait out the same second."""
    sources = [str(path) for path in write_cards(tmp_path / "cards", 8)]

    def slow_answer(body: dict[str, Any]) -> Reply:
        return hang(0.3, then=quoting_responder(body))

    with OpenAIServer([error(429, {"Retry-After": "1"})], responder=slow_answer) as server:
        report = run_batch(tmp_path, sources, settings_for(server), workers=4)
    assert report.done == 8 and not report.failures
    requests = sorted(server.requests, key=lambda request: request.received_at)
    first_four, later = requests[:4], requests[4:]
    assert first_four[-1].received_at - first_four[0].received_at < 0.25
    assert len(later) == 5  # four more cards and the retried one
    assert min(request.received_at for request in later) - first_four[0].received_at >= 0.9


def test_rpm_limit_spaces_every_request(tmp_path: Path) -> None:
    sources = [str(path) for path in write_cards(tmp_path / "cards", 6)]
    with OpenAIServer(responder=quoting_responder) as server:
        run_batch(tmp_path, sources, settings_for(server), workers=6, limiter=RateLimiter(rpm=300))
    arrivals = sorted(request.received_at for request in server.requests)
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert len(arrivals) == 6
    assert min(gaps) >= 0.15  # 300 per minute is one per 0.2 s; unpaced they would all come at once


def test_a_missing_api_key_stops_the_run_instead_of_failing_every_card(tmp_path: Path) -> None:
    sources = [str(path) for path in write_cards(tmp_path / "cards", 4)]
    with OpenAIServer(responder=quoting_responder) as server:
        run_batch(tmp_path, sources[:1], settings_for(server), out="first.jsonl")
        keyless = LLMSettings(base_url=server.base_url, backoff_initial=0.001, backoff_max=2.0, max_reasks=0)
        with pytest.raises(ConfigError, match="no API key"):
            run_batch(tmp_path, sources, keyless, workers=1)
    assert len(server.requests) == 1
    assert [entry["source"] for entry in lines_of(tmp_path / "out.jsonl.journal")] == sources[:1]


def test_requests_name_the_card_they_are_for(tmp_path: Path) -> None:
    """The responder and the resume tests rely on it: one request per card, about that card."""
    sources = [str(path) for path in write_cards(tmp_path / "cards", 3)]
    with OpenAIServer(responder=quoting_responder) as server:
        run_batch(tmp_path, sources, settings_for(server))
    assert sorted(requested_card(request.body) for request in server.requests) == sorted(
        Path(source).stem for source in sources
    )
