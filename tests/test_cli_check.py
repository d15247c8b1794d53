"""`decompose check` end to end: verdicts and problems printed, exit codes, formats, any SOURCE form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ANSWERS
from tests.support.hub_server import FakeRepo, hub_server
from tests.test_checker import FAITHFUL, SIBLING, write
from tests.test_cli import KOREAN, QWEN, run


def test_faithful_records_exit_0_with_a_verdict_per_record() -> None:
    code, out, err = run("check", str(ANSWERS / "koelectra-small-v3-nsmc.json"), "--source", str(KOREAN))
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == f"Checked 6 records against {KOREAN} (about KoELECTRA-Small-v3 NSMC 감성 분류 모델):"
    assert "grounded    korean binary sentiment classification" in out
    assert out.splitlines()[-1] == "6 records: 6 grounded, 0 partial, 0 ungrounded."


def test_any_ungrounded_record_exits_1_and_its_problems_are_printed() -> None:
    code, out, _ = run("check", str(ANSWERS / "qwen3-embedding-4b.unfaithful.json"), "-s", str(QWEN))
    assert code == 1
    lines = out.splitlines()
    at = lines.index("ungrounded  mean pooling")
    assert lines[at + 1].startswith('            - quote not found in the card: "The embedding is computed by mean')
    assert lines[at + 2] == "            - states mean pooling but the card says last-token pooling"
    assert "            - states 4096 but no evidence quote contains it" in lines
    assert lines[-1] == "4 records: 1 grounded, 0 partial, 3 ungrounded."


def test_a_sibling_row_quote_is_reported_as_about_the_sibling(tmp_path: Path) -> None:
    code, out, _ = run("check", write(tmp_path, [FAITHFUL, SIBLING]), "--source", str(QWEN))
    assert code == 1
    assert '            - quote is about Qwen3-Embedding-8B: "| Qwen3-Embedding-8B | 8B | 36 | 32K | 4096 | yes | yes |"' in out


def test_json_format_prints_the_rechecked_records(tmp_path: Path) -> None:
    code, out, _ = run("check", write(tmp_path, {"capabilities": [FAITHFUL, SIBLING]}), "-s", str(QWEN), "-f", "json")
    assert code == 1
    data = json.loads(out)
    assert [item["grounding"] for item in data["capabilities"]] == ["grounded", "ungrounded"]
    assert data["capabilities"][0]["evidence"][0]["match"] == "exact"


def test_out_writes_the_whole_report_even_when_a_record_is_ungrounded(tmp_path: Path) -> None:
    target = tmp_path / "checked.json"
    code, out, _ = run("check", write(tmp_path, [SIBLING]), "-s", str(QWEN), "-f", "json", "-o", str(target))
    assert (code, out) == (1, "")
    assert json.loads(target.read_text(encoding="utf-8"))[0]["grounding"] == "ungrounded"


def test_records_from_stdin() -> None:
    code, out, _ = run("check", "-", "-s", str(QWEN), input=json.dumps([FAITHFUL]).encode())
    assert code == 0 and "grounded    flexible dimensions" in out


def test_the_card_may_be_a_hub_repo_id(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    records = write(tmp_path, [FAITHFUL, SIBLING])
    with hub_server({"Qwen/Qwen3-Embedding-4B": FakeRepo(readme=QWEN.read_text(encoding="utf-8"))}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        code, out, _ = run("check", records, "--source", "Qwen/Qwen3-Embedding-4B")
    assert code == 1
    assert "(about Qwen3-Embedding-4B)" in out and "grounded    flexible dimensions" in out


@pytest.mark.parametrize(
    ("args", "content", "message"),
    [
        ((), b"[{", "is not valid JSON: Expecting property name enclosed in double quotes at line 1 column 3"),
        ((), b"{}", "expected a Decomposition, an object with a 'capabilities' list, or a list of records"),
        (("-f", "yaml"), b"[]", "unknown format 'yaml': use text or json"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, args: tuple[str, ...], content: bytes, message: str) -> None:
    path = tmp_path / "records.json"
    path.write_bytes(content)
    code, out, err = run("check", str(path), "-s", str(QWEN), *args)
    assert (code, out) == (2, "")
    assert err.startswith("decompose: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_missing_card_exits_2(tmp_path: Path) -> None:
    code, _, err = run("check", write(tmp_path, [FAITHFUL]), "-s", str(tmp_path / "no-card.md"))
    assert code == 2 and "no such file" in err


def test_help_shows_examples_and_exit_codes() -> None:
    code, out, _ = run("check", "--help")
    assert code == 0
    assert "decompose check claims.json --source" in out and "Exit code: 0 when no record is ungrounded" in out
