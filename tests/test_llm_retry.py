"""The transport retry path: what is retried, how long it waits, and how it finally fails."""

from __future__ import annotations

import email.utils
import time
from typing import Any

import httpx2
import openai
import pytest
from pydantic import BaseModel

from decompose.errors import LLMError, ReplayMiss
from decompose.llm import LLMSettings, StructuredLLM
from decompose.llm.retry import retry_after
from tests.support.openai_server import OpenAIServer, answer, drop, error, hang
from tests.test_llm_client import llm_for as client_for

MESSAGES = [{"role": "user", "content": "Say a word."}]


class Word(BaseModel):
    word: str


def llm_for(server: OpenAIServer, **overrides: Any) -> StructuredLLM:
    """Backoff capped at 0.5 s, so that Retry-After values up to that are honoured as sent."""
    return client_for(server, **{"backoff_max": 0.5, **overrides})


def test_rate_limit_waits_as_long_as_retry_after_says() -> None:
    with OpenAIServer([error(429, {"Retry-After": "0.2"}), answer({"word": "hi"})]) as server:
        with llm_for(server) as llm:
            result = llm.ask(MESSAGES, Word)
    assert result.value == Word(word="hi")
    first, second = server.requests
    assert 0.2 <= second.received_at - first.received_at < 1.5
    assert result.usage.requests == 2


def test_retry_after_is_capped_by_backoff_max() -> None:
    with OpenAIServer([error(429, {"Retry-After": "30"}), answer({"word": "hi"})]) as server:
        with llm_for(server, backoff_max=0.05) as llm:
            llm.ask(MESSAGES, Word)
    first, second = server.requests
    assert second.received_at - first.received_at < 1.0


def test_server_errors_are_retried_then_reported_with_step_and_status() -> None:
    with OpenAIServer([error(503)] * 3) as server:
        with llm_for(server, transport_retries=2) as llm, pytest.raises(LLMError) as caught:
            llm.ask(MESSAGES, Word, step="extract")
    assert str(caught.value) == (
        f"extract: endpoint {server.base_url} failed after 3 attempts: 503 Service Unavailable"
    )
    assert caught.value.step == "extract"
    assert len(server.requests) == 3


def test_dropped_connection_is_retried() -> None:
    with OpenAIServer([drop(), error(502), answer({"word": "back"})]) as server, llm_for(server) as llm:
        result = llm.ask(MESSAGES, Word)
    assert result.value.word == "back"
    assert len(server.requests) == 3
    assert result.usage.requests == 3


def test_timeouts_are_retried_then_fail_in_bounded_time() -> None:
    started = time.monotonic()
    with OpenAIServer([hang(5), hang(5)]) as server:
        with llm_for(server, timeout=0.3, transport_retries=1) as llm, pytest.raises(LLMError) as caught:
            llm.ask(MESSAGES, Word)
    assert time.monotonic() - started < 2.5
    assert "failed after 2 attempts: no answer within 0.3 s (timeout)" in str(caught.value)
    assert len(server.requests) == 2


def test_a_slow_answer_within_the_timeout_is_not_retried() -> None:
    started = time.monotonic()
    with OpenAIServer([answer({"word": "slow"})], latency=0.2) as server, llm_for(server, timeout=2.0) as llm:
        result = llm.ask(MESSAGES, Word)
    assert result.value.word == "slow" and len(server.requests) == 1
    assert time.monotonic() - started >= 0.2


def test_rejected_key_is_not_retried() -> None:
    with OpenAIServer([error(401), answer({"word": "never"})]) as server:
        with llm_for(server, transport_retries=4) as llm, pytest.raises(LLMError) as caught:
            llm.ask(MESSAGES, Word, step="extract")
    assert str(caught.value) == f"extract: the endpoint refused the API key (401 from {server.base_url})"
    assert len(server.requests) == 1


def test_bad_request_is_not_retried_and_quotes_the_server() -> None:
    body = {"error": {"message": "response_format json_schema is not supported", "type": "invalid_request_error"}}
    with OpenAIServer([error(400, body=body)]) as server:
        with llm_for(server) as llm, pytest.raises(LLMError) as caught:
            llm.ask(MESSAGES, Word)
    assert "rejected the request (400 Bad Request): response_format json_schema is not supported" in str(caught.value)
    assert len(server.requests) == 1


class MissingFixture(httpx2.BaseTransport):
    """A transport that fails the way the replay transport does on a miss."""

    def __init__(self) -> None:
        self.calls = 0

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        self.calls += 1
        raise ReplayMiss("abc123", None, "fixtures/exchanges")


def test_our_own_errors_inside_the_transport_surface_unwrapped_and_unretried() -> None:
    transport = MissingFixture()
    settings = LLMSettings(api_key="test-key", base_url="http://127.0.0.1:9/v1", backoff_initial=0.001)
    with StructuredLLM(settings, transport=transport) as llm, pytest.raises(ReplayMiss) as caught:
        llm.ask(MESSAGES, Word)
    assert caught.value.request_hash == "abc123"
    assert transport.calls == 1


def _rate_limit(headers: dict[str, str]) -> openai.RateLimitError:
    request = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions")
    response = httpx2.Response(429, headers=headers, request=request)
    return openai.RateLimitError("slow down", response=response, body=None)


def test_retry_after_accepts_seconds_milliseconds_and_http_dates() -> None:
    assert retry_after(_rate_limit({"Retry-After": "1.5"})) == 1.5
    assert retry_after(_rate_limit({"retry-after-ms": "250"})) == 0.25
    in_ten_seconds = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 8 <= (retry_after(_rate_limit({"Retry-After": in_ten_seconds})) or 0) <= 10
    assert retry_after(_rate_limit({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    assert retry_after(_rate_limit({})) is None
    assert retry_after(_rate_limit({"Retry-After": "soon"})) is None
