"""The CLI end to end: replayed and live (scripted) LLM exchanges, the fake hub, errors and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from decompose.cli import app
from decompose.schema import decomposition_schema
from tests.conftest import ANSWERS, CARDS, EXCHANGES
from tests.support.hub_server import FakeRepo, hub_server
from tests.support.openai_server import OpenAIServer, answer, error

QWEN = CARDS / "qwen3-embedding-4b.md"
KOREAN = CARDS / "koelectra-small-v3-nsmc.md"
runner = CliRunner()


def run(*args: str, input: bytes | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def replay_json(source: Path | str, *extra: str) -> dict:
    code, out, err = run("card", str(source), "--replay", str(EXCHANGES), "-f", "json", *extra)
    assert code == 0, err
    return json.loads(out)


def test_offline_card_gives_grounded_records_with_offsets_into_the_card() -> None:
    data = replay_json(QWEN)
    text = QWEN.read_text(encoding="utf-8")
    assert data["artifact"]["kind"] == "model"
    assert data["artifact"]["metadata"]["license"] == "apache-2.0"
    assert len(data["capabilities"]) == 7
    for capability in data["capabilities"]:
        assert capability["grounding"] == "grounded"
        assert capability["id"].startswith("qwen3-embedding-4b/")
        for evidence in capability["evidence"]:
            assert evidence["match"] == "exact"
            assert text[evidence["start"] : evidence["end"]] == evidence["quote"]
    code, schema_text, _ = run("schema")
    jsonschema.Draft202012Validator(json.loads(schema_text)).validate(data)


def test_korean_card_quotes_align_in_the_korean_text() -> None:
    data = replay_json(KOREAN)
    text = KOREAN.read_text(encoding="utf-8")
    korean_quotes = [
        e for c in data["capabilities"] for e in c["evidence"] if any("\uac00" <= ch <= "\ud7a3" for ch in e["quote"])
    ]
    assert len(korean_quotes) >= 10
    assert all(text[e["start"] : e["end"]] == e["quote"] for e in korean_quotes)


def test_a_second_identical_run_is_served_from_the_cache_without_any_request(tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite3"
    first = replay_json(QWEN, "--cache", str(cache))
    empty = tmp_path / "no-recordings"
    empty.mkdir()
    code, out, err = run("card", str(QWEN), "--replay", str(empty), "--cache", str(cache), "-f", "json")
    assert code == 0, err  # any request would have been a replay miss
    assert json.loads(out)["capabilities"] == first["capabilities"]
    code, listing, _ = run("cache", "ls", "--cache", str(cache))
    assert "qwen3-embedding-4b" in listing and "7 capabilities (7 grounded)" in listing
    code, shown, _ = run("cache", "show", first["provenance"]["cache_key"][:8], "--cache", str(cache))
    assert json.loads(shown)["capabilities"] == first["capabilities"]
    code, _, err = run("cache", "clear", "--cache", str(cache))
    assert code == 0 and "removed 1" in err


def test_no_cache_reads_and_writes_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite3"
    replay_json(QWEN, "--cache", str(cache), "--no-cache")
    assert not cache.exists()


def test_markdown_report_shows_evidence_and_yaml_parses() -> None:
    code, out, _ = run("card", str(QWEN), "--replay", str(EXCHANGES), "-f", "md")
    assert code == 0
    assert out.startswith("# Qwen3-Embedding-4B: capability records")
    assert "7 capabilities: 7 grounded, 0 partial, 0 ungrounded." in out
    assert "(exact match, characters" in out
    code, out, _ = run("card", str(QWEN), "--replay", str(EXCHANGES), "-f", "yaml")
    assert yaml.safe_load(out)["schema_version"] == "1"


def test_several_sources_print_a_json_array_and_out_is_written(tmp_path: Path) -> None:
    target = tmp_path / "both.json"
    code, out, err = run("card", str(QWEN), str(KOREAN), "--replay", str(EXCHANGES), "-f", "json", "-o", str(target))
    assert code == 0, err
    assert out == ""
    assert [d["artifact"]["id"] for d in json.loads(target.read_text())] == [
        "qwen3-embedding-4b",
        "koelectra-small-v3-nsmc",
    ]


def test_stdin_source(tmp_path: Path) -> None:
    code, out, err = run("card", "-", "--replay", str(EXCHANGES), "-f", "json", input=QWEN.read_bytes())
    assert code == 0, err
    assert json.loads(out)["artifact"]["id"] == "stdin"


def test_hub_model_by_repo_id_uses_hub_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    repo = FakeRepo(kind="model", readme=QWEN.read_text(encoding="utf-8"), info={"downloads": 123456, "likes": 789})
    with hub_server({"Qwen/Qwen3-Embedding-4B": repo}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        data = replay_json("Qwen/Qwen3-Embedding-4B")
    artifact = data["artifact"]
    assert artifact["id"] == "Qwen/Qwen3-Embedding-4B"
    assert artifact["url"] == "https://huggingface.co/Qwen/Qwen3-Embedding-4B"
    assert artifact["metadata"]["downloads"] == 123456
    assert {c["grounding"] for c in data["capabilities"]} == {"grounded"}


def test_planted_errors_are_flagged_ungrounded_and_shown_as_claims(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-local")
    unfaithful = json.loads((ANSWERS / "qwen3-embedding-4b.unfaithful.json").read_text())
    with OpenAIServer([answer(unfaithful)]) as server:
        code, out, err = run(
            "card", str(QWEN), "--base-url", server.base_url, "--cache", str(tmp_path / "c"), "-f", "json",
        )
        assert code == 0, err
    records = {c["name"]: c for c in json.loads(out)["capabilities"]}
    assert server.requests[0].body["response_format"]["type"] == "json_schema"  # auto mode, local endpoint
    dimension = records["high-dimensional embedding"]
    assert dimension["grounding"] == "ungrounded"
    assert any("4096" in problem for problem in dimension["problems"])
    assert records["mean pooling"]["grounding"] != "grounded"
    assert records["multilingual and code retrieval"]["grounding"] == "grounded"


def test_llm_failure_exits_1_names_the_card_and_caches_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-refused")
    cache = tmp_path / "c.sqlite3"
    out_file = tmp_path / "out.json"
    with OpenAIServer([error(401)]) as server:
        code, out, err = run(
            "card", str(QWEN), "--base-url", server.base_url, "--cache", str(cache), "-o", str(out_file),
        )
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("decompose: error: card ") and str(QWEN) in err
    assert not out_file.exists()
    code, listing, _ = run("cache", "ls", "--cache", str(cache))
    assert listing == ""


def test_replay_miss_names_the_missing_and_nearest_request(tmp_path: Path) -> None:
    edited = tmp_path / "qwen3-embedding-4b.md"
    edited.write_text(QWEN.read_text(encoding="utf-8") + "\nOne more line that was never recorded.\n", encoding="utf-8")
    code, _, err = run("card", str(edited), "--replay", str(EXCHANGES))
    assert code == 1
    assert "no recorded exchange" in err and "nearest recorded request" in err and "messages[1].content" in err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02binary\x00", "binary"),
        (b"# Card\n\xff\xfe broken", "UTF-8"),
        (b"---\nlicense: [apache\n---\n# Card\n", "front matter"),
    ],
)
def test_bad_input_files_exit_2_with_one_line(tmp_path: Path, content: bytes, expected: str) -> None:
    bad = tmp_path / "card.md"
    bad.write_bytes(content)
    out_file = tmp_path / "out.json"
    code, out, err = run("card", str(bad), "--replay", str(EXCHANGES), "-o", str(out_file))
    assert code == 2
    assert err.count("\n") == 1 and expected in err
    assert not out_file.exists()


def test_hub_errors_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    gated = FakeRepo(kind="dataset", readme="# The Stack v2\n", gated="manual")
    with hub_server({"bigcode/the-stack-v2": gated}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        code, _, missing = run("card", "nobody/no-such-model", "--replay", str(EXCHANGES))
        assert code == 2 and "not found" in missing
        code, _, denied = run("card", "https://huggingface.co/datasets/bigcode/the-stack-v2", "--replay", str(EXCHANGES))
        assert code == 2 and "HF_TOKEN" in denied


def test_usage_errors_exit_2() -> None:
    code, _, err = run("card", str(QWEN))
    assert code == 2 and "OPENAI_API_KEY" in err and "--replay" in err
    code, _, err = run("card", "not a source at all", "--replay", str(EXCHANGES))
    assert code == 2
    code, _, err = run("card", str(QWEN), "--replay", str(EXCHANGES), "-f", "pdf")
    assert code == 2 and "json, yaml, md" in err
    code, _, err = run("card", str(QWEN), "--mode", "magic", "--replay", str(EXCHANGES))
    assert code == 2 and "json_schema" in err


def test_installed_command_leaves_every_output_whole(tmp_path: Path) -> None:
    """The script ends with os._exit after the command: what it printed and wrote must all be there."""
    script = Path(sys.executable).parent / "decompose"
    printed = subprocess.run([str(script), "schema"], capture_output=True, text=True, timeout=60)
    assert printed.returncode == 0 and json.loads(printed.stdout) == decomposition_schema()
    written = tmp_path / "card.json"
    command = [str(script), "card", str(CARDS / "qwen3-embedding-4b.md"), "--replay", str(EXCHANGES)]
    env = {**os.environ, "DECOMPOSE_CACHE": str(tmp_path / "cache.sqlite3"), "OPENAI_API_KEY": "sk-test"}
    result = subprocess.run([*command, "-f", "json", "-o", str(written)], capture_output=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(written.read_text(encoding="utf-8"))["capabilities"]
    again = subprocess.run([str(script), "cache", "ls"], capture_output=True, text=True, env=env, timeout=60)
    assert again.returncode == 0 and "qwen3-embedding-4b" in again.stdout.lower()


def test_installed_command_prints_no_traceback(tmp_path: Path) -> None:
    empty = tmp_path / "empty.md"
    empty.write_bytes(b"")
    script = Path(sys.executable).parent / "decompose"
    result = subprocess.run([str(script), "card", str(empty)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.startswith("decompose: error:")
    help_text = subprocess.run([str(script), "card", "--help"], capture_output=True, text=True, timeout=60).stdout
    assert "Examples" in help_text and "--replay" in help_text
