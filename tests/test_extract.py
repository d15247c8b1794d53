"""Extraction after the LLM: merging the same capability, ids, the 12-record cap, strict mode, notes."""

from __future__ import annotations

import json

import pytest

from decompose.extract import MAX_CAPABILITIES, NothingGrounded, assemble_answer, slug
from decompose.extract.merge import same_capability
from decompose.records import MAX_MERGED_EVIDENCE, CapabilityAnswer, CapabilityDraft, Card
from tests.conftest import ANSWERS, CARDS


def qwen_card() -> Card:
    text = (CARDS / "qwen3-embedding-4b.md").read_text(encoding="utf-8")
    return Card(
        source="qwen.md", text=text, id="Qwen/Qwen3-Embedding-4B", name="Qwen3-Embedding-4B", kind="model",
        url=None, digest="sha256:" + "0" * 64, body_start=text.index("# Qwen3"),
    )


def answer(name: str) -> CapabilityAnswer:
    return CapabilityAnswer.model_validate(json.loads((ANSWERS / name).read_text()))


def drafts() -> list[CapabilityDraft]:
    return answer("qwen3-embedding-4b.json").capabilities


def test_drafts_with_the_same_name_merge_and_keep_all_evidence() -> None:
    first, second = drafts()[0], drafts()[1]
    duplicate = second.model_copy(update={"evidence": [second.evidence[0], first.evidence[0]]})
    result = assemble_answer(qwen_card(), CapabilityAnswer(capabilities=[first, second, duplicate]))
    assert [record.name for record in result.capabilities] == [first.name, second.name]
    assert [item.quote for item in result.capabilities[1].evidence] == [*second.evidence, first.evidence[0]]
    assert result.capabilities[1].grounding == "grounded"


def test_the_same_capability_under_another_name_merges() -> None:
    lead = drafts()[1]  # "flexible output dimensions"
    again = lead.model_copy(
        update={
            "name": "flexible output dimension sizes",
            "description": "Because of Matryoshka Representation Learning the leading part of each vector carries "
            "most of the meaning, so users keep only the first N values and normalize again.",
            "evidence": ["The model is trained with Matryoshka Representation Learning (MRL): the leading",
                         "You can keep only the first N values, for any N"],
        }
    )
    result = assemble_answer(qwen_card(), CapabilityAnswer(capabilities=[lead, again]))
    assert [record.name for record in result.capabilities] == [lead.name]
    quotes = [item.quote for item in result.capabilities[0].evidence]
    assert quotes[-1] == "You can keep only the first N values, for any N"


def test_different_capabilities_of_the_fixtures_never_merge() -> None:
    for name in ("qwen3-embedding-4b.json", "the-stack-v2.json", "koelectra-small-v3-nsmc.json"):
        items = answer(name).capabilities
        pairs = [(a.name, b.name) for i, a in enumerate(items) for b in items[i + 1 :] if same_capability(a, b)]
        assert pairs == []


def test_similar_names_with_different_descriptions_stay_apart() -> None:
    search = drafts()[0].model_copy(update={"name": "code search"})
    completion = drafts()[4].model_copy(update={"name": "code search tooling"})
    assert not same_capability(search, completion)


def test_merged_evidence_is_capped() -> None:
    lead = drafts()[0]
    copies = [
        lead.model_copy(update={"evidence": [f"quote number {index} {part}" for part in range(5)]})
        for index in range(5)
    ]
    result = assemble_answer(qwen_card(), CapabilityAnswer(capabilities=[lead, *copies]))
    assert len(result.capabilities) == 1
    assert len(result.capabilities[0].evidence) == MAX_MERGED_EVIDENCE


def test_ids_are_artifact_slash_capability_and_unique() -> None:
    records = assemble_answer(qwen_card(), answer("qwen3-embedding-4b.json")).capabilities
    ids = [record.id for record in records]
    assert ids[0] == "qwen3-embedding-4b/dense-text-embedding"
    assert len(set(ids)) == len(ids)


def test_slug_keeps_korean_and_drops_punctuation() -> None:
    assert slug("KoELECTRA 감성 분석!") == "koelectra-감성-분석"
    assert slug("Qwen3-Embedding-0.6B") == "qwen3-embedding-0.6b"


def test_unfaithful_answer_is_kept_but_flagged() -> None:
    result = assemble_answer(qwen_card(), answer("qwen3-embedding-4b.unfaithful.json"))
    records = {record.name: record for record in result.capabilities}
    assert len(records) == 4
    assert records["high-dimensional embedding"].grounding == "ungrounded"
    assert records["large llm backbone"].grounding == "ungrounded"
    assert records["multilingual and code retrieval"].grounding == "grounded"


def many_distinct_drafts(count: int, ungrounded: set[int]) -> list[CapabilityDraft]:
    base = drafts()[0]
    return [
        base.model_copy(
            update={
                "name": f"capability {letter}{letter}",
                "description": f"Distinct wording {letter * 3}: " + "x" * 60 + f" unique token {letter * 5}.",
                "evidence": ["A quote that the card never contains."] if index in ungrounded else base.evidence,
            }
        )
        for index, letter in enumerate("abcdefghijklmnopqrstuvwxyz"[:count])
    ]


def test_over_twelve_records_keep_the_best_grounded_twelve_and_say_so() -> None:
    items = many_distinct_drafts(15, ungrounded={1, 4, 9})
    result = assemble_answer(qwen_card(), CapabilityAnswer.model_construct(capabilities=items))
    names = [record.name for record in result.capabilities]
    assert len(names) == MAX_CAPABILITIES
    assert {record.grounding for record in result.capabilities} == {"grounded"}
    assert names == [item.name for index, item in enumerate(items) if index not in {1, 4, 9}]
    assert result.notes == [
        'kept the 12 best-grounded of 15 capabilities; left out: "capability bb", "capability ee", "capability jj"'
    ]


def test_a_card_with_nothing_to_decompose_says_so() -> None:
    result = assemble_answer(qwen_card(), CapabilityAnswer(capabilities=[]))
    assert result.capabilities == []
    assert result.notes == ["the card had too little to decompose: no capability was found"]
    few = assemble_answer(qwen_card(), CapabilityAnswer(capabilities=drafts()[:2]))
    assert few.notes == ["the card had little to decompose: 2 capabilities found where 3 to 12 are expected"]


def test_strict_drops_ungrounded_records_and_notes_them() -> None:
    lenient = assemble_answer(qwen_card(), answer("qwen3-embedding-4b.unfaithful.json")).capabilities
    flagged = [record.name for record in lenient if record.grounding == "ungrounded"]
    result = assemble_answer(qwen_card(), answer("qwen3-embedding-4b.unfaithful.json"), strict=True)
    assert [record.name for record in result.capabilities] == [r.name for r in lenient if r.name not in flagged]
    assert result.notes == [
        f"strict mode dropped {len(flagged)} ungrounded records: " + ", ".join(f'"{name}"' for name in flagged)
    ]
    assert "high-dimensional embedding" in flagged


def test_strict_fails_when_no_record_is_left() -> None:
    items = many_distinct_drafts(3, ungrounded={0, 1, 2})
    with pytest.raises(NothingGrounded, match="strict mode dropped all 3 records") as raised:
        assemble_answer(qwen_card(), CapabilityAnswer(capabilities=items), strict=True)
    assert raised.value.exit_code == 1
    assert "qwen.md" in str(raised.value) and "--strict" in str(raised.value)


def test_a_quote_copied_from_the_cleaned_text_across_html_is_located_in_the_card_as_fetched() -> None:
    text = (
        "# Tiny\n\nTiny is a sentiment classifier for short reviews.\n\n<table>\n"
        "<tr><th>Model</th><th>Parameters</th></tr>\n<tr><td>Tiny</td><td>14M</td></tr>\n</table>\n"
    )
    card = Card(source="tiny.md", text=text, id="tiny", name="Tiny", kind="model", url=None,
                digest="sha256:" + "0" * 64, sections=())
    draft = drafts()[0].model_copy(
        update={
            "name": "small sentiment classifier",
            "description": "Tiny classifies short reviews by sentiment with only 14M parameters, which keeps "
            "inference cheap on modest hardware.",
            "unique": "A sentiment classifier of only 14M parameters.",
            "evidence": ["| Tiny | 14M |", "Tiny is a sentiment classifier for short reviews."],
        }
    )
    [record] = assemble_answer(card, CapabilityAnswer(capabilities=[draft])).capabilities
    assert record.grounding == "grounded"
    table_row, sentence = record.evidence
    assert table_row.match == "normalized"
    row = text.index("<tr><td>Tiny")
    assert row <= table_row.start < table_row.end <= text.index("\n", row)
    assert text[table_row.start : table_row.end].startswith(("<td>Tiny", "Tiny"))
    assert "14M" in text[table_row.start : table_row.end]
    assert sentence.match == "exact" and text[sentence.start : sentence.end] == sentence.quote
