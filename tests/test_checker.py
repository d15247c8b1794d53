"""The checker library: records of any tool, in any of the three shapes, re-checked against a card."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from decompose.checker import check_file, check_records, read_records
from decompose.errors import InputError, SourceNotFound
from decompose.sources import load_card
from tests.conftest import CARDS

QWEN = CARDS / "qwen3-embedding-4b.md"
DIMENSION_LINE = "Embedding dimension: up to 2560, with user-defined output dimensions anywhere from 32 to 2560"
ROW_8B = "| Qwen3-Embedding-8B | 8B | 36 | 32K | 4096 | yes | yes |"


def record(name: str, description: str, evidence: list[Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "description": description, "unique": "What sets it apart, in a sentence or so.",
            "evidence": evidence, **extra}


FAITHFUL = record("flexible dimensions", "Any output size from 32 to 2,560 dimensions.", [DIMENSION_LINE])
SIBLING = record("wide vectors", "It outputs 4096-dimensional vectors.", [ROW_8B])


def decomposition(artifact_name: str, capabilities: list[dict[str, Any]], digest: str) -> dict[str, Any]:
    """A Decomposition as `decompose card -f json` writes it; grounding fields deliberately stale."""
    return {
        "schema_version": "1",
        "artifact": {"id": f"Qwen/{artifact_name}", "kind": "model", "name": artifact_name, "url": None,
                     "source_digest": digest, "metadata": {}},
        "capabilities": [
            {
                "id": f"x/{index}", "name": item["name"], "description": item["description"].ljust(80, "."),
                "unique": item["unique"], "vs_alternatives": [{"alternative": "bge-m3", "comparison": "A comparison."}],
                "evidence": [{"quote": quote, "start": 0, "end": 1, "match": "exact"} for quote in item["evidence"]],
                "grounding": "grounded", "problems": [],
            }
            for index, item in enumerate(capabilities)
        ],
        "provenance": {"model": "m", "endpoint": "e", "mode": "tools", "prompt_version": "p", "created_at": "t",
                       "requests": 1, "prompt_tokens": 0, "completion_tokens": 0, "cache_key": "k"},
    }


def write(tmp_path: Path, data: Any, name: str = "records.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_a_plain_list_from_another_tool_is_checked_and_keeps_its_own_fields(tmp_path: Path) -> None:
    foreign = record("flexible dimensions", FAITHFUL["description"], [{"quote": DIMENSION_LINE, "page": 2}], score=0.9)
    report = check_file(write(tmp_path, [foreign, SIBLING]), str(QWEN))
    assert report.subject == "Qwen3-Embedding-4B"
    assert [(item.name, item.verdict) for item in report.records] == [
        ("flexible dimensions", "grounded"), ("wide vectors", "ungrounded")
    ]
    assert report.records[1].problems[-1] == "states 4096 but only a quote about Qwen3-Embedding-8B contains it"
    first = report.document[0]
    assert first["score"] == 0.9
    text = QWEN.read_text(encoding="utf-8")
    (evidence,) = first["evidence"]
    assert text[evidence["start"] : evidence["end"]] == DIMENSION_LINE and evidence["match"] == "exact"
    assert first["grounding"] == "grounded" and first["problems"] == []
    assert report.any_ungrounded


def test_an_answer_shaped_object_keeps_its_shape(tmp_path: Path) -> None:
    report = check_file(write(tmp_path, {"capabilities": [FAITHFUL], "model": "some-llm"}), str(QWEN))
    assert report.document["model"] == "some-llm"
    assert report.document["capabilities"][0]["grounding"] == "grounded"
    assert not report.any_ungrounded


def test_a_decomposition_is_rechecked_for_its_own_artifact(tmp_path: Path) -> None:
    card = load_card(str(QWEN))
    about_8b = write(tmp_path, decomposition("Qwen3-Embedding-8B", [SIBLING], card.digest))
    report = check_file(about_8b, str(QWEN))
    assert report.subject == "Qwen3-Embedding-8B"
    assert report.records[0].verdict == "grounded"  # the 8B row backs a claim about the 8B model
    assert report.notes == []
    stale = write(tmp_path, decomposition("Qwen3-Embedding-4B", [SIBLING], "sha256:" + "0" * 64), "stale.json")
    report = check_file(stale, str(QWEN))
    assert report.records[0].verdict == "ungrounded"
    assert report.document["capabilities"][0]["evidence"][0]["start"] == text_index(ROW_8B)
    assert "card differs" in report.notes[0]


def text_index(quote: str) -> int:
    return QWEN.read_text(encoding="utf-8").index(quote)


def test_subject_can_be_given(tmp_path: Path) -> None:
    record_set = read_records(write(tmp_path, [SIBLING]))
    report = check_records(record_set, load_card(str(QWEN)), subject="Qwen3-Embedding-8B")
    assert report.records[0].verdict == "grounded"


def test_a_quote_outside_the_contracts_bounds_is_reported_not_fatal(tmp_path: Path) -> None:
    short = record("dims", FAITHFUL["description"], ["2560", DIMENSION_LINE])
    report = check_file(write(tmp_path, [short]), str(QWEN))
    (checked,) = report.records
    assert checked.verdict == "ungrounded"
    assert checked.problems == ['quote of 4 characters is outside the 8-400 the contract allows: "2560"']
    assert [item["match"] for item in report.document[0]["evidence"]] == ["none", "exact"]


def test_a_record_without_quotes_is_ungrounded(tmp_path: Path) -> None:
    report = check_file(write(tmp_path, [record("bare", "It embeds text.", [])]), str(QWEN))
    assert (report.records[0].verdict, report.records[0].problems) == ("ungrounded", ["the record has no evidence quote"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'[{"name": "x",',
         "records.json is not valid JSON: Expecting property name enclosed in double quotes at line 1 column 15"),
        (b"\xff\xfe[]", "records.json is not UTF-8 text"),
        (b"  \n", "records.json is empty"),
        (b"[]", "records.json holds no records; nothing to check"),
        (b'"text"', "records.json: expected a Decomposition, an object with a 'capabilities' list, or a list of records"),
        (b'[{"name": "x", "description": "d", "evidence": []}]', "records.json: record 1 (x): unique: Field required"),
        (b'[{"name": "x", "description": "d", "unique": "u", "evidence": [3]}]',
         "records.json: record 1 (x): evidence[0]: each quote must be a string or an object with a 'quote' string"),
        (b'{"artifact": {}, "capabilities": []}', "records.json: not a valid Decomposition: artifact.id: Field required"),
    ],
    ids=["invalid-json", "not-utf8", "empty", "no-records", "wrong-type", "missing-field", "bad-quote", "bad-decomposition"],
)
def test_bad_records_files_raise_one_line_input_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "records.json"
    path.write_bytes(content)
    with pytest.raises(InputError) as raised:
        read_records(str(path))
    assert str(raised.value).replace(str(tmp_path) + "/", "").startswith(message)
    assert "\n" not in str(raised.value)


def test_missing_files_and_two_stdins_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceNotFound, match="no such records file"):
        read_records(str(tmp_path / "absent.json"))
    with pytest.raises(InputError, match="cannot both come from stdin"):
        check_file("-", "-", stdin=io.BytesIO(b"[]"))


def test_records_can_come_from_stdin() -> None:
    stdin = io.BytesIO(json.dumps([FAITHFUL]).encode())
    assert read_records("-", stdin=stdin).records[0]["name"] == "flexible dimensions"
