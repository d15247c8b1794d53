"""How to reach the LLM and how hard to try: one frozen value, resolved and checked once.

Everything is resolved at construction (environment variables included), so the object a run
carries says exactly which endpoint and key it used. A missing API key is reported only when a
client is built (`require_api_key`): a fully cached run needs no key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from decompose.errors import ConfigError
from decompose.llm.modes import VALID_MODES, mode_name

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Replay never reaches a server, but the openai client refuses to start without some key.
REPLAY_PLACEHOLDER_KEY = "sk-replay-placeholder"
NO_KEY_MESSAGE = "no API key: set OPENAI_API_KEY, or pass --replay DIR to run from recorded exchanges"


@dataclass(frozen=True)
class LLMSettings:
    """The endpoint, model and generation parameters, plus the retry budgets of both retry paths."""

    model: str = "gpt-4o-mini"
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    mode: str = "auto"
    timeout: float = 120.0
    temperature: float = 0.0
    seed: int | None = None
    max_output_tokens: int = 4096
    transport_retries: int = 4
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    max_reasks: int = 1
    replay_dir: Path | None = None
    record_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.mode not in VALID_MODES:
            raise ConfigError(f"unknown LLM mode {self.mode!r}; valid modes: {', '.join(VALID_MODES)}")
        if self.replay_dir is not None and self.record_dir is not None:
            raise ConfigError("--replay and --record exclude each other: pick one")
        self._check_ranges()
        base_url = self.base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        object.__setattr__(self, "base_url", base_url.rstrip("/"))
        for name in ("replay_dir", "record_dir"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, Path(value))
        key = REPLAY_PLACEHOLDER_KEY if self.replaying else self.api_key or os.environ.get("OPENAI_API_KEY")
        object.__setattr__(self, "api_key", key or None)

    @property
    def replaying(self) -> bool:
        return self.replay_dir is not None

    def require_api_key(self) -> str:
        """The key to send; ConfigError when there is none and nothing is replayed."""
        if not self.api_key:
            raise ConfigError(NO_KEY_MESSAGE)
        return self.api_key

    def generation_params(self) -> dict[str, Any]:
        """Every parameter besides endpoint, model and mode that changes an answer (for cache keys)."""
        return {
            "temperature": self.temperature,
            "seed": self.seed,
            "max_output_tokens": self.max_output_tokens,
            "max_reasks": self.max_reasks,
        }

    def _check_ranges(self) -> None:
        problems = [
            "timeout must be > 0" if self.timeout <= 0 else "",
            "max_output_tokens must be > 0" if self.max_output_tokens <= 0 else "",
            "transport_retries must be >= 0" if self.transport_retries < 0 else "",
            "max_reasks must be >= 0" if self.max_reasks < 0 else "",
            "backoff_initial must be >= 0" if self.backoff_initial < 0 else "",
            "backoff_max must be >= backoff_initial" if self.backoff_max < self.backoff_initial else "",
        ]
        if found := [problem for problem in problems if problem]:
            raise ConfigError("bad LLM settings: " + "; ".join(found))


def resolve_endpoint(settings: LLMSettings) -> str:
    """The base URL without credentials, query or fragment: safe to print and to store."""
    parts = urlsplit(settings.base_url or DEFAULT_BASE_URL)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def resolve_mode_name(settings: LLMSettings) -> str:
    """The mode `auto` resolves to for this endpoint: tools, json_schema, json or md_json."""
    return mode_name(settings.mode, settings.base_url or DEFAULT_BASE_URL)
