"""What one `ask` cost and what the model last said, seen request by request.

instructor 1.17 reports the usage of failed attempts only inside its exception (issue #2391) and
parses the message text as-is in its JSON modes. Its hooks fire for every request instead:
`completion:kwargs` just before a request is sent (so transport failures count too) and
`completion:response` when a completion arrives, before instructor parses it. `AttemptLog`
listens to both: it sums usage, keeps the last answer for a re-ask, and cleans the text in place
(`<think>` blocks, code fences, prose) so every mode parses what the model meant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from decompose.llm.parsing import extract_json_text

T = TypeVar("T")


@dataclass(frozen=True)
class Usage:
    """Requests sent and tokens billed, failed attempts and re-asks included."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(
            self.requests + other.requests,
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
        )

    def __radd__(self, other: object) -> Usage:
        """Let `sum(usages)` start from 0."""
        if other == 0:
            return self
        return NotImplemented


@dataclass(frozen=True)
class Answer(Generic[T]):
    """A validated answer and everything it cost."""

    value: T
    usage: Usage


class AttemptLog:
    """Per-`ask` listener on instructor's hooks; pass `.hooks` to every instructor call."""

    def __init__(self) -> None:
        from instructor.core import Hooks  # only a client asks; `Usage` alone must not load instructor

        self.usage = Usage()
        self.last_answer = ""
        self.finish_reason: str | None = None
        self.refusal: str | None = None
        self.hooks = Hooks()
        self.hooks.on("completion:kwargs", self._on_request)
        self.hooks.on("completion:response", self._on_response)

    def _on_request(self, *_args: Any, **_kwargs: Any) -> None:
        self.usage += Usage(requests=1)

    def _on_response(self, response: Any) -> None:
        usage = getattr(response, "usage", None)
        if usage is not None:
            self.usage += Usage(0, usage.prompt_tokens or 0, usage.completion_tokens or 0)
        choices = getattr(response, "choices", None) or []
        if not choices:
            self.finish_reason, self.refusal, self.last_answer = None, None, ""
            return
        choice = choices[0]
        message = choice.message
        self.finish_reason = choice.finish_reason
        self.refusal = getattr(message, "refusal", None)
        if message.tool_calls:
            self.last_answer = message.tool_calls[0].function.arguments or ""
        else:
            message.content = extract_json_text(message.content or "")
            self.last_answer = message.content
