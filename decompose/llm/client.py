"""`StructuredLLM`: ask any OpenAI-compatible endpoint for an answer that validates.

The openai client never retries (`max_retries=0`) and instructor never re-asks (`max_retries=0`):
both retry paths live in `retry.py`, where they are bounded, told apart and reported clearly.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import logging
from collections.abc import Callable, Generator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

import httpx2
import instructor
import openai
from instructor.core import IncompleteOutputException, InstructorRetryException
from pydantic import BaseModel

from decompose.errors import LLMError
from decompose.llm.attempts import Answer, AttemptLog
from decompose.llm.budget import AskMeter, TokenBudget
from decompose.llm.limits import RateLimiter, estimate_tokens
from decompose.llm.modes import instructor_mode, is_openai_endpoint, mode_name, needs_flat_schema, wire_model
from decompose.llm.parsing import describe_for_user, one_line
from decompose.llm.retry import TransportRetry, reask_messages
from decompose.llm.settings import LLMSettings, resolve_endpoint

# instructor logs every failed attempt at ERROR; with no handler configured Python would print
# those to stderr. We report failures ourselves, so give its loggers a handler that drops them
# (an application that configures logging still receives them through propagation).
logging.getLogger("instructor").addHandler(logging.NullHandler())

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class _Attempt:
    """One request of an ask: how to send it, and the tokens it may use (for the rate limiter)."""

    send: Callable[[], Any]
    tokens: int

# What instructor raises when the answer (not the transport) failed: parse/validation errors,
# refusals (wrapped), and truncation.
ANSWER_FAILURES = (InstructorRetryException, IncompleteOutputException)


class StructuredLLM:
    """One endpoint and model, asked for answers validated against a pydantic model."""

    def __init__(
        self,
        settings: LLMSettings,
        *,
        transport: httpx2.BaseTransport | None = None,
        async_transport: httpx2.AsyncBaseTransport | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        """`limiter` is shared by every request of this client (and any other given the same one);
        by default one of its own, which still holds all workers when the server answers 429."""
        self.settings = settings
        self.limiter = limiter or RateLimiter()
        self._api_key = settings.require_api_key()
        self._base_url: str = settings.base_url or ""
        self._mode = mode_name(settings.mode, self._base_url)
        self._flat_schema = needs_flat_schema(settings.mode, self._base_url)
        self._transport, self._async_transport = self._wrap_for_fixtures(transport, async_transport)
        self._retry = TransportRetry(settings, self.endpoint, limiter=self.limiter)
        self._client = openai.OpenAI(
            **self._client_options(), http_client=openai.DefaultHttpx2Client(transport=self._transport)
        )
        self._instructor = instructor.from_openai(self._client, mode=instructor_mode(self._mode))
        self._async_client: openai.AsyncOpenAI | None = None
        self._async_instructor: Any = None
        self._async_loop: asyncio.AbstractEventLoop | None = None

    @property
    def endpoint(self) -> str:
        """The base URL without credentials, query or fragment: safe to print and to store."""
        return resolve_endpoint(self.settings)

    @property
    def mode(self) -> str:
        """The resolved mode name: tools, json_schema, json or md_json (never auto)."""
        return self._mode

    def generation_params(self) -> dict[str, Any]:
        """Every parameter besides endpoint, model and mode that changes an answer (for cache keys)."""
        return self.settings.generation_params()

    def ask(
        self,
        messages: list[dict[str, str]],
        response_model: type[M],
        *,
        step: str = "extract",
        budget: TokenBudget | None = None,
    ) -> Answer[M]:
        """An answer that validates against `response_model`, re-asking at most `max_reasks` times.

        `budget` is the card's token cap: charged with every answered request, checked before each."""
        attempts = self._attempts(self._instructor, messages, response_model, step, budget)
        attempt = next(attempts)
        while True:
            try:
                reply: Any = self._retry.call(attempt.send, step=step, tokens=attempt.tokens)
            except ANSWER_FAILURES as failure:
                reply = failure
            try:
                attempt = attempts.send(reply)
            except StopIteration as finished:
                return finished.value

    async def aask(
        self,
        messages: list[dict[str, str]],
        response_model: type[M],
        *,
        step: str = "extract",
        budget: TokenBudget | None = None,
    ) -> Answer[M]:
        """`ask` for asyncio callers, on a lazily built async client."""
        attempts = self._attempts(self._get_async_instructor(), messages, response_model, step, budget)
        attempt = next(attempts)
        while True:
            try:
                reply: Any = await self._retry.acall(attempt.send, step=step, tokens=attempt.tokens)
            except ANSWER_FAILURES as failure:
                reply = failure
            try:
                attempt = attempts.send(reply)
            except StopIteration as finished:
                return finished.value

    def _attempts(
        self,
        client: Any,
        messages: list[dict[str, str]],
        response_model: type[M],
        step: str,
        budget: TokenBudget | None,
    ) -> Generator[_Attempt, Any, Answer[M]]:
        """The re-ask loop, written once for `ask` and `aask`: yields each request to send, receives
        the parsed answer or the answer failure, and re-asks with the last answer and error only."""
        wire = self._wire(response_model)
        log = AttemptLog()
        meter = AskMeter(budget, step=step)
        conversation = copy.deepcopy(messages)
        last_error: BaseException | None = None
        for _ in range(self.settings.max_reasks + 1):
            meter.check()
            send = functools.partial(self._create, client, wire, conversation, log)
            reply = yield _Attempt(send, self._admission_tokens(conversation))
            meter.settle(log.usage)
            if not isinstance(reply, ANSWER_FAILURES):
                return Answer(_exact(response_model, reply), log.usage)
            last_error = self._answer_error(reply, log, step)
            conversation = reask_messages(messages, log.last_answer, last_error)
        raise self._exhausted(last_error, step)

    def close(self) -> None:
        """Close the sync client; the async client belongs to its event loop and `aclose`."""
        self._client.close()

    async def aclose(self) -> None:
        """Close both clients; call it from the event loop that ran `aask`."""
        self._client.close()
        if self._async_client is not None and self._async_loop is asyncio.get_running_loop():
            await self._async_client.close()

    def __enter__(self) -> StructuredLLM:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    async def __aenter__(self) -> StructuredLLM:
        return self

    async def __aexit__(
        self, _type: type[BaseException] | None, _error: BaseException | None, _tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def _create(self, client: Any, wire: type[BaseModel], conversation: list[dict[str, str]], log: AttemptLog) -> Any:
        """One instructor call = one request: no instructor re-ask, hooks feeding the log."""
        return client.create(
            response_model=wire, messages=conversation, max_retries=0, hooks=log.hooks, **self._request_params()
        )

    def _admission_tokens(self, conversation: list[dict[str, str]]) -> int:
        return estimate_tokens(conversation, self.settings.max_output_tokens)

    def _request_params(self) -> dict[str, Any]:
        settings = self.settings
        # OpenAI's newer models reject max_tokens; local servers may not know max_completion_tokens.
        tokens_field = "max_completion_tokens" if is_openai_endpoint(self._base_url) else "max_tokens"
        params: dict[str, Any] = {
            "model": settings.model,
            "temperature": settings.temperature,
            tokens_field: settings.max_output_tokens,
        }
        if settings.seed is not None:
            params["seed"] = settings.seed
        return params

    def _answer_error(self, failure: Exception, log: AttemptLog, step: str) -> BaseException:
        """The validation error to re-ask with; refusals and truncation end the ask instead."""
        if log.refusal:
            raise LLMError(f"the model refused to answer: {one_line(log.refusal, limit=200)}", step=step)
        if isinstance(failure, IncompleteOutputException) or log.finish_reason == "length":
            raise LLMError(
                f"answer truncated at max_output_tokens={self.settings.max_output_tokens}; "
                "raise --max-output-tokens",
                step=step,
            )
        if log.finish_reason == "content_filter":
            raise LLMError("the endpoint's content filter stopped the answer", step=step)
        attempts = getattr(failure, "failed_attempts", None)
        return attempts[-1].exception if attempts else failure.__cause__ or failure

    def _exhausted(self, last_error: BaseException | None, step: str) -> LLMError:
        attempts = self.settings.max_reasks + 1
        detail = describe_for_user(last_error) if last_error else "no answer"
        return LLMError(f"answer failed validation after {attempts} attempts: {detail}", step=step)

    def _wire(self, response_model: type[M]) -> type[M]:
        return _prepared(wire_model(response_model) if self._flat_schema else response_model)

    def _client_options(self) -> dict[str, Any]:
        return {
            "api_key": self._api_key,
            "base_url": self._base_url,
            "timeout": self.settings.timeout,
            "max_retries": 0,
        }

    def _get_async_instructor(self) -> Any:
        """The async client of the running event loop: its connections cannot outlive that loop,
        so a caller running `asyncio.run` twice gets a fresh client the second time."""
        loop = asyncio.get_running_loop()
        if self._async_instructor is None or self._async_loop is not loop:
            http = openai.DefaultAsyncHttpx2Client(transport=self._async_transport)
            self._async_client = openai.AsyncOpenAI(**self._client_options(), http_client=http)
            self._async_instructor = instructor.from_openai(self._async_client, mode=instructor_mode(self._mode))
            self._async_loop = loop
        return self._async_instructor

    def _wrap_for_fixtures(
        self, transport: httpx2.BaseTransport | None, async_transport: httpx2.AsyncBaseTransport | None
    ) -> tuple[httpx2.BaseTransport | None, httpx2.AsyncBaseTransport | None]:
        """Put the record/replay transport under both clients when a fixture directory is set."""
        directory = self.settings.replay_dir or self.settings.record_dir
        if directory is None:
            return transport, async_transport
        from decompose.llm.replay import RecordReplayTransport  # written alongside; imported only when used

        fixtures = RecordReplayTransport(
            mode="replay" if self.settings.replay_dir is not None else "record",
            directory=directory,
            inner=transport or httpx2.HTTPTransport(),
            async_inner=async_transport or httpx2.AsyncHTTPTransport(),
        )
        return fixtures, fixtures


@functools.cache
def _prepared(response_model: type[M]) -> type[M]:
    """The model as instructor sends and parses it: given a plain model, instructor wraps it in a new
    `ResponseSchema` subclass on every request (a pydantic `create_model`, ~1 ms); this is that
    wrapper, built once per model."""
    return instructor.response_schema(response_model)


def _exact(response_model: type[M], parsed: BaseModel) -> M:
    """The parsed answer as an instance of `response_model` itself, not the subclass instructor
    validated with (which would compare unequal to, and dump differently from, the real model)."""
    fields = {name: getattr(parsed, name) for name in response_model.model_fields}
    return response_model.model_construct(_fields_set=set(parsed.model_fields_set), **fields)
