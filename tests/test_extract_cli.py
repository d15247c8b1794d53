"""`decompose card --strict` and `--max-input-tokens` as a user meets them, and notes in the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from decompose.cli import app
from tests.conftest import ANSWERS, CARDS
from tests.support.openai_server import OpenAIServer, answer

QWEN = CARDS / "qwen3-embedding-4b.md"
UNFAITHFUL = json.loads((ANSWERS / "qwen3-embedding-4b.unfaithful.json").read_text())
runner = CliRunner()


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-local")


def run(server: OpenAIServer, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["card", str(QWEN), "--base-url", server.base_url, "--no-cache", *args])
    return result.exit_code, result.stdout, result.stderr


def test_strict_exits_1_with_one_line_when_no_record_is_backed_by_the_card(tmp_path: Path) -> None:
    invented = {"capabilities": [r for r in UNFAITHFUL["capabilities"] if r["name"] == "large llm backbone"]}
    out_file = tmp_path / "out.json"
    with OpenAIServer([answer(invented), answer(invented)]) as server:
        code, out, err = run(server, "--strict", "-o", str(out_file))
    assert code == 1
    assert err.count("\n") == 1
    assert err.startswith(f"decompose: error: card {QWEN}: strict mode dropped all 1 record")
    assert not out_file.exists()


def test_strict_output_holds_no_ungrounded_record_and_notes_what_it_dropped() -> None:
    with OpenAIServer([answer(UNFAITHFUL), answer(UNFAITHFUL)]) as server:
        code, out, err = run(server, "--strict", "-f", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["capabilities"] and all(c["grounding"] != "ungrounded" for c in data["capabilities"])
    assert any(note.startswith("strict mode dropped ") for note in data["notes"])


def test_a_budget_too_small_for_the_instructions_is_a_usage_error() -> None:
    with OpenAIServer() as server:
        code, _, err = run(server, "--max-input-tokens", "300")
    assert code == 2
    assert err.count("\n") == 1 and "--max-input-tokens 300 is too small" in err and "use at least" in err
    assert server.requests == []


def test_the_markdown_report_shows_the_notes() -> None:
    with OpenAIServer([answer({"capabilities": []})]) as server:
        code, out, err = run(server, "-f", "md")
    assert code == 0, err
    assert "0 capabilities" in out
    assert "**Notes:**\n- the card had too little to decompose: no capability was found" in out
