"""Every test runs as on a clean machine: no keys, no endpoint overrides, caches under tmp."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CARDS = FIXTURES / "cards"
ANSWERS = FIXTURES / "answers"
EXCHANGES = FIXTURES / "exchanges"


def one_line_error(raised: pytest.ExceptionInfo[BaseException]) -> str:
    """The raised error's message, which every error a user meets must keep to one line."""
    message = str(raised.value)
    assert "\n" not in message
    return message


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "DECOMPOSE_MODEL", "HF_TOKEN", "GITHUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("DECOMPOSE_CACHE", str(home / "cache.sqlite3"))
    monkeypatch.setenv("HF_HOME", str(home / "hf"))
