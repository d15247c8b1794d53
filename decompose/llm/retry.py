"""The two retry paths, kept apart because they fail for different reasons.

Transport faults (429, 5xx, timeouts, dropped connections) say nothing about the answer: the same
request is sent again after a jittered exponential backoff that honours `Retry-After`. Validation
failures say the answer was wrong: the model is re-asked with its last answer and the last error
only, a fresh message list built from the caller's messages -- never the whole history, whose
growth is what made instructor's own loop blow up the context (issue #2056).
"""

from __future__ import annotations

import asyncio
import copy
import email.utils
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import openai
from instructor.core import InstructorRetryException
from tenacity import AsyncRetrying, RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_base, wait_exponential_jitter

from decompose.errors import DecomposeError, LLMError
from decompose.llm.limits import RateLimiter
from decompose.llm.parsing import describe_for_model, one_line
from decompose.llm.settings import LLMSettings

T = TypeVar("T")

REASK_TEMPLATE = (
    "Your previous answer was not valid:\n{error}\n"
    "Reply with the complete corrected answer as JSON that matches the schema, and nothing else."
)


def is_transient(error: BaseException) -> bool:
    """Faults worth sending the same request again for: rate limits, server errors, lost connections."""
    if isinstance(error, openai.APIStatusError):
        return error.status_code == 429 or error.status_code >= 500
    return isinstance(error, openai.APIConnectionError)


def retry_after(error: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (`retry-after-ms`, `Retry-After` seconds or HTTP date)."""
    if not isinstance(error, openai.APIStatusError):
        return None
    headers = error.response.headers
    if (milliseconds := _number(headers.get("retry-after-ms"))) is not None:
        return max(milliseconds / 1000, 0.0)
    value = headers.get("retry-after")
    if value is None:
        return None
    if (seconds := _number(value)) is not None:
        return max(seconds, 0.0)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class BackoffWait(wait_base):
    """`Retry-After` when the server sends one, else jittered exponential backoff; both capped."""

    def __init__(self, initial: float, maximum: float) -> None:
        self.maximum = maximum
        self.exponential = wait_exponential_jitter(multiplier=initial, max=maximum, jitter=initial)

    def __call__(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if (asked := retry_after(error)) is not None:
            return min(asked, self.maximum)
        return self.exponential(retry_state)


def transport_fault(wrapped: InstructorRetryException) -> BaseException | None:
    """The transport error inside instructor's wrapper, or None when the answer itself failed.

    instructor wraps every API error in InstructorRetryException; openai wraps exceptions raised
    inside a transport (a replay miss) in APIConnectionError. Ours are surfaced unwrapped.
    """
    if wrapped.failed_attempts:
        return None
    cause = wrapped.__cause__
    if isinstance(cause, openai.APIConnectionError) and isinstance(cause.__cause__, DecomposeError):
        return cause.__cause__
    return cause if isinstance(cause, openai.APIError) else None


class TransportRetry:
    """Sends one request, again on transport faults, and turns the final fault into an LLMError."""

    def __init__(self, settings: LLMSettings, endpoint: str, *, limiter: RateLimiter | None = None) -> None:
        """`limiter` paces every attempt and is paused for everyone when the server asks to wait."""
        self.settings = settings
        self.endpoint = endpoint
        self.limiter = limiter or RateLimiter()

    def _policy(self) -> dict[str, Any]:
        return {
            "retry": retry_if_exception(is_transient),
            "stop": stop_after_attempt(self.settings.transport_retries + 1),
            "wait": BackoffWait(self.settings.backoff_initial, self.settings.backoff_max),
            "before_sleep": self._hold_everyone,
            "reraise": True,
        }

    def _hold_everyone(self, retry_state: RetryCallState) -> None:
        """A 429 (or any fault with Retry-After) told one worker to wait: every worker waits as long."""
        error = retry_state.outcome.exception() if retry_state.outcome else None
        asks_to_wait = isinstance(error, openai.APIStatusError) and error.status_code == 429
        if asks_to_wait or retry_after(error) is not None:
            self.limiter.pause(retry_state.upcoming_sleep)

    def call(self, send: Callable[[], T], *, step: str, tokens: int = 0) -> T:
        """`tokens`: what one attempt counts against a token limit (see `limits.estimate_tokens`)."""
        attempts = 0
        try:
            for attempt in Retrying(**self._policy()):
                with attempt:
                    attempts += 1
                    self.limiter.wait(tokens)
                    try:
                        return send()
                    except InstructorRetryException as wrapped:
                        raise transport_fault(wrapped) or wrapped
        except openai.APIError as error:
            raise self.failure(error, attempts, step=step) from error
        raise AssertionError("unreachable: tenacity returns or raises")

    async def acall(self, send: Callable[[], Awaitable[T]], *, step: str, tokens: int = 0) -> T:
        attempts = 0
        try:
            async for attempt in AsyncRetrying(**self._policy()):
                with attempt:
                    attempts += 1
                    async with self.limiter.slot():
                        await self.limiter.await_turn(tokens)
                        try:
                            reply = await send()
                        except InstructorRetryException as wrapped:
                            raise transport_fault(wrapped) or wrapped
                    # Let a card woken by the slot just freed send its request before this card's
                    # checking and storing run: keeps the slots busy when many answers come at once.
                    await asyncio.sleep(0)
                    return reply
        except openai.APIError as error:
            raise self.failure(error, attempts, step=step) from error
        raise AssertionError("unreachable: tenacity returns or raises")

    def failure(self, error: openai.APIError, attempts: int, *, step: str) -> LLMError:
        """One line naming the endpoint and the cause; a transient fault also says how often we tried."""
        if is_transient(error):
            return LLMError(
                f"endpoint {self.endpoint} failed after {attempts} attempt{'s' if attempts != 1 else ''}: "
                f"{self._describe(error)}",
                step=step,
            )
        return LLMError(self._refusal(error), step=step)

    def _describe(self, error: openai.APIError) -> str:
        if isinstance(error, openai.APITimeoutError):
            return f"no answer within {self.settings.timeout:g} s (timeout)"
        if isinstance(error, openai.APIStatusError):
            return _status_line(error)
        cause = error.__cause__
        return f"connection failed ({one_line(str(cause) or type(cause).__name__)})" if cause else "connection failed"

    def _refusal(self, error: openai.APIError) -> str:
        if not isinstance(error, openai.APIStatusError):
            return f"endpoint {self.endpoint} failed: {one_line(str(error))}"
        detail = _server_message(error)
        suffix = f": {detail}" if detail else ""
        if error.status_code == 401:
            return f"the endpoint refused the API key (401 from {self.endpoint})"
        if error.status_code == 403:
            return f"endpoint {self.endpoint} denied access (403){suffix}"
        if error.status_code == 404:
            return f"endpoint {self.endpoint} has no model {self.settings.model!r} or no chat API (404){suffix}"
        return f"endpoint {self.endpoint} rejected the request ({_status_line(error)}){suffix}"


def _status_line(error: openai.APIStatusError) -> str:
    return f"{error.status_code} {error.response.reason_phrase}".strip()


def _server_message(error: openai.APIStatusError) -> str:
    """The server's own explanation, if it gave one (OpenAI-style `{"error": {"message": ...}}`)."""
    body = error.body
    message = body.get("message") if isinstance(body, dict) else body
    return one_line(str(message), limit=200) if message else ""


def reask_messages(original: list[dict[str, str]], last_answer: str, error: BaseException) -> list[dict[str, str]]:
    """The caller's messages (deep-copied), the last answer, and the last error: nothing else."""
    return [
        *copy.deepcopy(original),
        {"role": "assistant", "content": last_answer},
        {"role": "user", "content": REASK_TEMPLATE.format(error=describe_for_model(error))},
    ]
