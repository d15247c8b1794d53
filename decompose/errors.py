"""Errors a user sees: one line each, with the exit code the CLI returns.

Every module raises these (never a bare exception a user would see as a traceback), so the CLI
can map them to `exit_code` and print `str(error)` alone.
"""

from __future__ import annotations


class DecomposeError(Exception):
    """Base of every error we report to a user; the message is one line that says what to do."""

    exit_code = 1


class InputError(DecomposeError):
    """The user's input or usage is wrong: a bad source, file, option or configuration."""

    exit_code = 2


class SourceNotFound(InputError):
    """The source does not exist (no such file, hub 404)."""


class AccessDenied(InputError):
    """The source exists but needs credentials (hub 401/403, gated repository)."""


class ConfigError(InputError):
    """The run is misconfigured (no API key and no replay, unknown mode, bad cache path)."""


class LLMError(DecomposeError):
    """The endpoint or the model failed; names the card, the step and the cause."""

    exit_code = 1

    def __init__(self, cause: str, *, card: str = "", step: str = "") -> None:
        self.cause = cause
        self.card = card
        self.step = step
        super().__init__(self._render())

    def _render(self) -> str:
        where = " ".join(part for part in (self.card and f"card {self.card}:", self.step and f"{self.step}:") if part)
        return f"{where} {self.cause}".strip()

    def located(self, *, card: str, step: str | None = None) -> "LLMError":
        """Return the same error with the card (and step) it happened on filled in."""
        self.card = card
        if step:
            self.step = step
        self.args = (self._render(),)
        return self


class ReplayMiss(LLMError):
    """Replay mode found no fixture for a request; never falls back to the network or to order."""

    def __init__(self, request_hash: str, nearest: str | None, fixture_dir: str) -> None:
        self.request_hash = request_hash
        self.nearest = nearest
        hint = f"; nearest recorded request: {nearest}" if nearest else "; the fixture directory has no recordings"
        super().__init__(
            f"no recorded exchange {request_hash} in {fixture_dir}{hint}; re-record with --record DIR",
            step="replay",
        )


class CacheError(DecomposeError):
    """The results cache cannot be opened or written."""

    exit_code = 1
