"""Extraction after the LLM: duplicate drafts merge, ids are stable, every record is grounded."""

from __future__ import annotations

import json

from decompose.extract import merge_duplicates, slug, to_capabilities
from decompose.records import CapabilityAnswer, Card
from tests.conftest import ANSWERS, CARDS


def qwen_card() -> Card:
    text = (CARDS / "qwen3-embedding-4b.md").read_text(encoding="utf-8")
    return Card(
        source="qwen.md", text=text, id="Qwen/Qwen3-Embedding-4B", name="Qwen3-Embedding-4B", kind="model",
        url=None, digest="sha256:" + "0" * 64,
    )


def answer(name: str) -> CapabilityAnswer:
    return CapabilityAnswer.model_validate(json.loads((ANSWERS / name).read_text()))


def test_drafts_with_the_same_name_merge_and_keep_all_evidence() -> None:
    drafts = answer("qwen3-embedding-4b.json").capabilities
    duplicate = drafts[1].model_copy(update={"evidence": [*drafts[1].evidence[:1], drafts[0].evidence[0]]})
    merged = merge_duplicates([drafts[0], drafts[1], duplicate])
    assert [d.name for d in merged] == [drafts[0].name, drafts[1].name]
    assert merged[1].evidence == [*drafts[1].evidence, drafts[0].evidence[0]]


def test_ids_are_artifact_slash_capability_and_unique() -> None:
    records = to_capabilities(qwen_card(), answer("qwen3-embedding-4b.json"))
    ids = [record.id for record in records]
    assert ids[0] == "qwen3-embedding-4b/dense-text-embedding"
    assert len(set(ids)) == len(ids)


def test_slug_keeps_korean_and_drops_punctuation() -> None:
    assert slug("KoELECTRA 감성 분석!") == "koelectra-감성-분석"
    assert slug("Qwen3-Embedding-0.6B") == "qwen3-embedding-0.6b"


def test_unfaithful_answer_is_kept_but_flagged() -> None:
    records = {r.name: r for r in to_capabilities(qwen_card(), answer("qwen3-embedding-4b.unfaithful.json"))}
    assert len(records) == 4
    assert records["high-dimensional embedding"].grounding == "ungrounded"
    assert records["large llm backbone"].grounding == "ungrounded"
    assert records["multilingual and code retrieval"].grounding == "grounded"
