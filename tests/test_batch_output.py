"""The `--out` file and its journal: whole lines, and what a rerun keeps after a crash mid-write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from decompose.batch import JsonlFile
from decompose.errors import InputError
from decompose.records import Artifact, Decomposition, Provenance


def result(number: int) -> Decomposition:
    return Decomposition(
        artifact=Artifact(id=f"card-{number}", kind="model", name=f"Card {number}", source_digest="sha256:" + "0" * 64),
        capabilities=[],
        provenance=Provenance(
            model="m", endpoint="e", mode="tools", prompt_version="p", created_at="2026-01-01T00:00:00+00:00",
            requests=1, prompt_tokens=10, completion_tokens=5, cache_key=f"key-{number}",
        ),
    )  # fmt: skip


def written(path: Path, count: int) -> None:
    with JsonlFile(path) as sink:
        for number in range(count):
            sink.write(f"cards/{number}.md", result(number))


def test_each_result_has_one_whole_line_and_a_journal_line_naming_its_source(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    written(out, 3)
    lines = out.read_text(encoding="utf-8").splitlines()
    journal = [json.loads(line) for line in Path(f"{out}.journal").read_text(encoding="utf-8").splitlines()]
    assert [Decomposition.model_validate_json(line) for line in lines] == [result(n) for n in range(3)]
    assert journal == [{"source": f"cards/{n}.md", "cache_key": f"key-{n}"} for n in range(3)]
    with JsonlFile(out) as sink:
        assert sink.finished == {f"cards/{n}.md" for n in range(3)} and sink.dropped_lines == 0


@pytest.mark.parametrize(
    ("damage", "kept"),
    [
        ("cut-off result line", 2),
        ("result line without its journal line", 2),
        ("cut-off journal line", 2),
        ("journal naming another result", 1),
    ],
)
def test_a_rerun_keeps_only_the_prefix_both_files_agree_on(tmp_path: Path, damage: str, kept: int) -> None:
    out, journal = tmp_path / "out.jsonl", tmp_path / "out.jsonl.journal"
    written(out, 3)
    if damage == "cut-off result line":
        out.write_bytes(out.read_bytes()[:-20])
    elif damage == "result line without its journal line":
        journal.write_bytes(b"".join(journal.read_bytes().splitlines(keepends=True)[:2]))
    elif damage == "cut-off journal line":
        journal.write_bytes(journal.read_bytes()[:-5])
    else:
        lines = journal.read_bytes().splitlines(keepends=True)
        journal.write_bytes(lines[0] + lines[2] + lines[1])
    with JsonlFile(out) as sink:
        assert sink.finished == {f"cards/{n}.md" for n in range(kept)}
        assert sink.dropped_lines == 3 - kept
        sink.write("cards/new.md", result(9))
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    entries = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]
    assert [r["provenance"]["cache_key"] for r in results] == [e["cache_key"] for e in entries]
    assert [e["source"] for e in entries] == [*(f"cards/{n}.md" for n in range(kept)), "cards/new.md"]


def test_a_file_with_data_but_no_journal_is_never_appended_to(tmp_path: Path) -> None:
    out = tmp_path / "mine.jsonl"
    out.write_text('{"mine": true}\n', encoding="utf-8")
    with pytest.raises(InputError, match="was not written by decompose batch"):
        JsonlFile(out)
    assert out.read_text(encoding="utf-8") == '{"mine": true}\n'


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with JsonlFile(out), pytest.raises(InputError, match="another decompose batch is writing"):
        JsonlFile(out)
    with JsonlFile(out) as sink:
        assert sink.finished == frozenset()
