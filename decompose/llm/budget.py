"""A per-card token cap (`--max-tokens-per-card`) that ends runaway retries.

Re-asks are bounded per ask, but a card may take several asks (chunks, a grounding re-ask), each
with its own re-asks, and a model that keeps answering wrong keeps billing. One `TokenBudget` is
made per card and handed to every ask for it; the client charges it with the prompt and completion
tokens of every response (failed attempts and re-asks included) and consults it before each
request. Crossing the cap ends the card with `TokenCapReached` (an `LLMError`), so nothing is cached.
"""

from __future__ import annotations

import threading

from decompose.errors import ConfigError, LLMError
from decompose.llm.attempts import Usage


class TokenCapReached(LLMError):
    """The card's token cap is spent: every further ask for it would fail too, so the card ends."""


def checked_limit(limit: int | None) -> int | None:
    """The cap itself, or ConfigError when it could never let a request through."""
    if limit is not None and limit <= 0:
        raise ConfigError(f"--max-tokens-per-card must be a positive number, got {limit}; leave it out for no cap")
    return limit


class TokenBudget:
    """Tokens one card may spend; `limit=None` only counts. Safe to share between threads and tasks."""

    def __init__(self, limit: int | None) -> None:
        self.limit = checked_limit(limit)
        self.spent = Usage()
        self._lock = threading.Lock()

    @property
    def tokens(self) -> int:
        return self.spent.prompt_tokens + self.spent.completion_tokens

    def check(self, *, step: str) -> None:
        """Refuse to send another request once nothing is left."""
        with self._lock:
            if self.limit is not None and self.tokens >= self.limit:
                raise self._exceeded(step)

    def charge(self, usage: Usage, *, step: str) -> None:
        """Add what some requests cost; raise once the total passes the cap."""
        with self._lock:
            self.spent += usage
            if self.limit is not None and self.tokens > self.limit:
                raise self._exceeded(step)

    def _exceeded(self, step: str) -> TokenCapReached:
        return TokenCapReached(
            f"token cap reached: {self.tokens} tokens spent in {self.spent.requests} requests, the cap is "
            f"{self.limit} per card (--max-tokens-per-card); raise it if the card needs more, or find out why "
            "the answers keep failing",
            step=step,
        )


class AskMeter:
    """One ask's link to its card's budget: charges what the ask spent since it last settled."""

    def __init__(self, budget: TokenBudget | None, *, step: str) -> None:
        self.budget = budget
        self.step = step
        self._settled = Usage()

    def check(self) -> None:
        if self.budget is not None:
            self.budget.check(step=self.step)

    def settle(self, total: Usage) -> None:
        """`total` is the ask's usage so far (`AttemptLog.usage`); only the new part is charged."""
        if self.budget is None:
            return
        new = Usage(
            total.requests - self._settled.requests,
            total.prompt_tokens - self._settled.prompt_tokens,
            total.completion_tokens - self._settled.completion_tokens,
        )
        self._settled = total
        self.budget.charge(new, step=self.step)
