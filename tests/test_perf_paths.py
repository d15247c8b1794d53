"""The fast paths give exactly what the plain paths give: folding, family names, trailing spaces,
sentence breaks, schema verdicts, the answer schema, and where a card is loaded and prepared.
Timings live in bench/, never here."""

from __future__ import annotations

import asyncio
import copy
import os
import random
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, Field

from decompose.api import _may_wait
from decompose.cleaning.markup import trailing_space_runs
from decompose.errors import DecomposeError, LLMError
from decompose.extract import pipeline
from decompose.extract.pipeline import PREPARE_IN_LOOP_CHARS, aextract
from decompose.grounding.align import Aligner
from decompose.grounding.fold import Folded, _Folder, fold
from decompose.grounding.layout import _SENTENCE_BREAK
from decompose.grounding.names import _VARIANT, Subject
from decompose.llm.modes import wire_model
from decompose.records import CapabilityAnswer, Card
from decompose.schema import answer_schema, decomposition_schema, validate_answer, validate_decomposition
from decompose.schema_verdict import SchemaVerdict, working_copy
from tests.conftest import CARDS, ROOT
from tests.support.batch_cards import card_text
from tests.test_schema import make_answer_data, make_decomposition_data

# Everything fold treats specially, and plain text around it.
PIECES = [
    "a", "Zq", "09", ".", ",", "-", " ", "  ", "\n", "\t", "\r\n", "\x1c", "\x00", "*", "_", "`", "|", "&", "#",
    ">", "\\", "[", "]", "(", ")", "!", "<", ";", "'", '"', "&amp;", "&#x41;", "&nbsp;", "&bogus;", "<b>", "</i>",
    "<!-- c -->", "[link](http://x)", "![i](u \"t\")", "\n# ", "\n- ", "\n> ", "\\*", "한", "국어", "\u1100",
    "\u1161", "\u11a8", "e\u0301", "\u0301", "ﬁ", "１２", "\u200b", "\u00ad", "“", "—", "\u00a0", "\u3000", "漢",
    "カ", "\ufe0f", "😀", "İ", "ß", "Σ", "\u2028", "plain words here", "CamelCase", "x=1;y=2",
]


def per_character(text: str) -> Folded:
    """The definition: every character through the general step, no bulk runs."""
    folder = _Folder(text)
    position = 0
    while position < len(text):
        position = folder._step(position)
    return Folded("".join(folder.pieces), folder.starts, folder.ends)


def sample_texts() -> Iterator[str]:
    for path in sorted(CARDS.rglob("*.md")):
        yield path.read_text(encoding="utf-8")
    yield card_text(3, size=20_000)
    generator = random.Random(4)
    for _ in range(3000):
        yield "".join(generator.choice(PIECES) for _ in range(generator.randint(0, 30)))


def test_fold_in_bulk_equals_folding_character_by_character() -> None:
    for text in sample_texts():
        assert fold(text) == per_character(text), repr(text[:200])


def test_fold_maps_every_character_back_into_the_text() -> None:
    text = "A **bold** claim,\n\n  then  한국어 모델 and e\u0301t\u00e9 &amp; more"
    folded = fold(text)
    assert folded.text == "a bold claim, then한국어모델and été & more"
    assert [text[start:end] for start, end in zip(folded.starts, folded.ends)][:6] == ["A", " ", "b", "o", "l", "d"]
    assert all(0 <= start < end <= len(text) for start, end in zip(folded.starts, folded.ends))


WRONG_VALUES: list[Any] = [None, -1, 1.5, "", "x" * 1300, [], {}, True, [None]]


def paths(node: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    yield prefix
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from paths(child, (*prefix, key))


def mutations(document: dict[str, Any]) -> Iterator[Any]:
    """The document with, at every place, a wrong value, a field removed or added, a list grown or emptied."""
    for path in paths(document):
        parent: Any = document
        for part in path[:-1]:
            parent = parent[part]
        node = parent[path[-1]] if path else document
        changes: list[Callable[[Any], Any]] = [lambda _node, value=value: value for value in WRONG_VALUES]
        if isinstance(node, dict):
            changes.append(lambda node: {**node, "unexpected": 1})
            changes += [lambda node, key=key: {k: v for k, v in node.items() if k != key} for key in node]
        if isinstance(node, list):
            changes += [lambda node: node + node[:1], lambda node: node * 5]
        for change in changes:
            mutated = copy.deepcopy(document)
            if not path:
                yield change(mutated)
                continue
            target = mutated
            for part in path[:-1]:
                target = target[part]
            target[path[-1]] = change(copy.deepcopy(node))
            yield mutated


def accepts(validate: Callable[[Any], None], document: Any) -> bool:
    try:
        validate(document)
    except DecomposeError as violation:
        assert str(violation)
        return False
    return True


@pytest.mark.parametrize(
    ("validate", "schema", "document"),
    [
        (validate_decomposition, decomposition_schema(), make_decomposition_data()),
        (validate_answer, answer_schema(), make_answer_data()),
    ],
    ids=["decomposition", "answer"],
)
def test_validation_accepts_exactly_what_the_shipped_schema_accepts(
    validate: Callable[[Any], None], schema: dict[str, Any], document: dict[str, Any]
) -> None:
    shipped = Draft202012Validator(schema)
    verdicts = [(accepts(validate, mutated), shipped.is_valid(mutated)) for mutated in mutations(document)]
    assert all(ours == theirs for ours, theirs in verdicts)
    assert {theirs for _, theirs in verdicts} == {True, False}


class Leaf(BaseModel):
    label: str = Field(min_length=2, max_length=5)
    weight: int | None = Field(default=None, ge=0, description="how much it counts")


class Tree(BaseModel):
    leaf: Leaf = Field(description="the leaf at this node")
    children: list[Tree] = Field(default_factory=list, max_length=3)
    tags: list[Annotated[str, Field(pattern="^[a-z]+$")]] = Field(default_factory=list)


def test_a_recursive_schema_and_references_with_siblings_give_the_same_verdicts() -> None:
    schema = Tree.model_json_schema()
    document = {"leaf": {"label": "ab"}, "children": [{"leaf": {"label": "cd", "weight": 2}, "tags": ["x"]}]}
    verdict, shipped = SchemaVerdict(schema), Draft202012Validator(schema)
    outcomes = [(verdict.is_valid(mutated), shipped.is_valid(mutated)) for mutated in mutations(document)]
    assert all(ours == theirs for ours, theirs in outcomes)
    assert {theirs for _, theirs in outcomes} == {True, False}


def test_the_working_copy_inlines_references_and_drops_annotations() -> None:
    copied = working_copy(decomposition_schema())
    without_definitions = {key: value for key, value in copied.items() if key != "$defs"}
    assert "$ref" not in repr(without_definitions)
    assert "'title'" not in repr(without_definitions)
    assert "$ref" in repr(decomposition_schema())  # the shipped schema itself is untouched


def test_the_answer_schema_sent_is_built_once_and_handed_out_as_a_copy() -> None:
    wire = wire_model(CapabilityAnswer)
    first = wire.model_json_schema()
    first["properties"]["capabilities"]["description"] = "changed by a caller"
    assert wire.model_json_schema() != first
    assert wire.model_json_schema() == wire.model_json_schema()
    assert "$ref" not in repr(wire.model_json_schema())


def test_only_sources_that_may_wait_are_loaded_off_the_event_loop(tmp_path: Path) -> None:
    card = tmp_path / "card.md"
    card.write_text("# card\n", encoding="utf-8")
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    assert not _may_wait(str(card))
    assert _may_wait(str(fifo))
    assert _may_wait("-")
    assert _may_wait("Qwen/Qwen3-Embedding-4B")
    assert _may_wait("https://example.com/card.md")
    assert not _may_wait("ftp://example.com/card.md")  # refused before any I/O
    assert _may_wait(str(ROOT))  # a directory: its README.md is found and read in a thread


def family_pattern(family: str) -> re.Pattern[str]:
    """The definition: one pattern per subject, as compiled before the family search got faster."""
    return re.compile(
        rf"(?i)(?<![a-z0-9_-])(?:the\s+)?{re.escape(family)}(?:[-_./][a-z0-9]+(?:\.\d+)*)*"
        rf"(?:[ ]{_VARIANT})*(?![a-z0-9])"
    )


FAMILY_PIECES = [
    "qwen3", "Qwen3", "QWEN3", "qwen", "the ", "The  ", "the\n", "THE\t", "athe ", "-", "_", ".", "/", "x", "8B",
    " v2", " base", " large", " 8b", "-Embedding", "-4B", ".5", "1", " ", "\n", "Ⅹ", "K", "é", "the", "-the ",
]


def test_family_names_are_found_where_the_one_pattern_finds_them() -> None:
    generator = random.Random(7)
    texts = [path.read_text(encoding="utf-8") for path in sorted(CARDS.rglob("*.md"))]
    texts += ["".join(generator.choice(FAMILY_PIECES) for _ in range(generator.randint(0, 25))) for _ in range(5000)]
    for name in ("Qwen3-Embedding-4B", "KoELECTRA-Small-v3", "The Stack v2", "Model Card for k"):
        subject = Subject(name)
        definition = family_pattern(subject._family_token)
        for text in texts:
            for start, end in ((0, len(text)), (len(text) // 3, len(text) * 2 // 3), (1, len(text))):
                expected = [match.span() for match in definition.finditer(text, start, end)]
                assert list(subject._family_names(text, start, end)) == expected, (name, text, start, end)


def test_a_card_is_folded_only_once_a_quote_is_not_found_exactly() -> None:
    text = (CARDS / "qwen3-embedding-4b.md").read_text(encoding="utf-8")
    aligner = Aligner(text)
    exact = text[200:260]
    assert aligner.locate(exact).match == "exact"
    assert "_folded" not in vars(aligner)
    assert aligner.locate(exact.upper()).match == "normalized"
    assert "_folded" in vars(aligner)


def test_only_large_cards_are_prepared_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    offloaded: list[int] = []

    async def to_thread(function: Callable[..., Any], *args: Any) -> Any:
        offloaded.append(len(args[0].text))
        return function(*args)

    def prepare_only(card_text: str) -> None:
        card = Card(source="card.md", id="card", kind="model", name="card", url=None, text=card_text, digest="0" * 64)
        with pytest.raises(LLMError, match="prepared"):
            asyncio.run(aextract(card, Refusing()))  # type: ignore[arg-type]

    class Refusing:
        async def aask(self, *_: Any, **__: Any) -> Any:
            raise LLMError("prepared; no request in this test", step="extract")

    monkeypatch.setattr(pipeline.asyncio, "to_thread", to_thread)
    prepare_only("# card\n\n" + "A short card sentence.\n" * 10)
    assert offloaded == []
    prepare_only("# card\n\n" + "A long card sentence.\n" * (PREPARE_IN_LOOP_CHARS // 20))
    assert offloaded and offloaded[0] > PREPARE_IN_LOOP_CHARS


def test_trailing_space_runs_are_the_runs_one_pattern_finds() -> None:
    definition = re.compile(r"[ \t\r\f\v]+(?=\n|\Z)")
    generator = random.Random(11)
    pieces = [" ", "  ", "\t", "\r", "\r\n", "\n", "\f", "\v", "a", "word", "\u00a0", "|"]
    texts = [path.read_text(encoding="utf-8") for path in sorted(CARDS.rglob("*.md"))]
    texts += ["".join(generator.choice(pieces) for _ in range(generator.randint(0, 20))) for _ in range(5000)]
    for text in texts:
        assert list(trailing_space_runs(text)) == [match.span() for match in definition.finditer(text)], repr(text)


def test_sentence_breaks_end_where_the_lookbehind_pattern_ends_them() -> None:
    definition = re.compile(
        r"(?<=[.!?。])[\"')\]*_]*\s+|\n[ \t]*\n|\n(?=[ \t]*(?:[-*+][ \t]|\d+[.)][ \t]|#|\||>))"
    )
    generator = random.Random(13)
    pieces = [".", "!", "?", "。", '"', "'", ")", "]", "*", "_", " ", "\n", "\t", "\n\n", "- ", "1. ", "#", "|", ">",
              "a", "b c", "3)", "+ "]
    texts = [path.read_text(encoding="utf-8") for path in sorted(CARDS.rglob("*.md"))]
    texts += ["".join(generator.choice(pieces) for _ in range(generator.randint(0, 30))) for _ in range(5000)]
    for text in texts:
        expected = [match.end() for match in definition.finditer(text)]
        assert [match.end() for match in _SENTENCE_BREAK.finditer(text)] == expected, repr(text)
