"""Scores: missing inputs are n/a (never 0), ties, identical artifacts, weights, the reference date."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from decompose.compare import Weights, compare, render_comparison
from decompose.compare.checklist import card_checklist
from decompose.compare.licenses import access_of, classify_license
from decompose.compare.scores import adoption, ecosystem, freshness, quality, score_artifact
from decompose.records import Artifact, Capability, Card, Decomposition, Evidence, Provenance
from decompose.sources.loader import build_card
from tests.conftest import CARDS

AS_OF = date(2025, 9, 1)
FULL_CARD = """---
license: mit
library_name: transformers
---
# Tiny model

## Intended uses

It is meant for classifying short reviews.

## Evaluation results

Accuracy 0.91 on the test split.

## Limitations

English only.

```python
from transformers import pipeline
```

## Citation

@misc{tiny, title={Tiny}}
"""


def card(text: str = FULL_CARD, **metadata: Any) -> Card:
    built = build_card("card.md", text, id="tiny")
    return Card(**{**built.__dict__, "metadata": {**built.metadata, **metadata}})


def capability(name: str, grounding: str = "grounded", intents: tuple[str, ...] = ()) -> Capability:
    return Capability(
        id=f"tiny/{name.replace(' ', '-')}",
        name=name,
        description=f"The {name} capability works like this, described at length for the schema's minimum of eighty.",
        unique=f"What sets the {name} capability apart from the rest.",
        vs_alternatives=[{"alternative": "Other", "comparison": "cheaper but slower"}],
        intents=list(intents),
        evidence=[Evidence(quote="a quote from the card", start=0, end=21, match="exact")],
        grounding=grounding,
    )


def decomposition(of: Card, capabilities: list[Capability]) -> Decomposition:
    return Decomposition(
        artifact=Artifact(id=of.id, kind=of.kind, name=of.name, source_digest=of.digest, metadata=of.metadata),
        capabilities=capabilities,
        provenance=Provenance(
            model="m", endpoint="e", mode="tools", prompt_version="p", created_at="t",
            requests=1, prompt_tokens=1, completion_tokens=1, cache_key="k",
        ),
    )


def test_missing_downloads_and_likes_make_adoption_na_not_zero() -> None:
    missing = adoption({})
    assert missing.score is None
    assert missing.inputs == {"downloads": None, "likes": None}
    assert all("n/a" in reason for reason in missing.reasons)
    zero = adoption({"downloads": 0, "likes": 0})
    assert zero.score == 0.0  # a known zero is a zero


def test_adoption_uses_whichever_count_is_known_and_rejects_non_counts() -> None:
    only_likes = adoption({"likes": 99})
    assert only_likes.score == pytest.approx(0.5, abs=0.001)  # log10(100) / log10(10001)
    assert adoption({"downloads": "lots", "likes": True}).score is None
    assert adoption({"downloads": 10**9}).score == 1.0  # capped


def test_freshness_is_relative_to_the_reference_date_and_na_without_a_date() -> None:
    assert freshness({"last_modified": "2024-09-01T12:00:00+00:00"}, as_of=AS_OF).score == 0.5
    assert freshness({"last_modified": "2025-09-01"}, as_of=AS_OF).score == 1.0
    assert freshness({"last_modified": "2026-01-01"}, as_of=AS_OF).score == 1.0  # later than as_of: 0 days
    assert freshness({}, as_of=AS_OF).score is None
    unreadable = freshness({"last_modified": "last tuesday"}, as_of=AS_OF)
    assert unreadable.score is None and "not a date" in unreadable.reasons[0]


def test_full_checklist_and_grounded_records_give_full_quality() -> None:
    items = card_checklist(card(FULL_CARD + "word " * 1000))
    assert [item.name for item in items] == [
        "license", "intended use", "limitations", "evaluation results", "usage example", "citations", "length",
    ]
    assert all(item.score == 1.0 for item in items), items
    assert quality(card(FULL_CARD + "word " * 1000), [capability("alpha")]).score == 1.0


def test_bare_card_misses_every_item_and_says_so() -> None:
    bare = card("# Bare\n\nNothing here.\n")
    items = {item.name: item for item in card_checklist(bare)}
    assert {name for name, item in items.items() if item.score == 1.0} == set()
    assert items["evaluation results"].finding.startswith("no ")


def test_a_citation_block_is_not_a_usage_example() -> None:
    text = "# Card\n\n## Citation\n\n```bibtex\n@article{x, title={X}}\n```\n\nMore prose after the block.\n"
    items = {item.name: item for item in card_checklist(card(text))}
    assert items["usage example"].score == 0.0
    assert items["citations"].score == 1.0


def test_ungrounded_records_lower_quality_and_no_records_leaves_the_checklist_alone() -> None:
    full = quality(card(), [capability("alpha"), capability("beta")]).score
    half = quality(card(), [capability("alpha"), capability("beta", "ungrounded")]).score
    assert full is not None and half is not None and half < full
    partial = quality(card(), [capability("alpha", "partial")])
    assert partial.inputs["grounded_share"] == 0.0  # partly grounded is not grounded
    alone = quality(card(), [])
    assert alone.inputs["grounded_share"] is None and any("n/a" in reason for reason in alone.reasons)


def test_ecosystem_without_license_uses_integrations_only() -> None:
    no_license = card("# Card\n\nServe it with vLLM or Ollama; convert to GGUF for llama.cpp.\n")
    result = ecosystem(no_license)
    assert result.inputs == {"integrations": ["vLLM", "llama.cpp", "GGUF", "Ollama"], "license": None}
    assert result.score == 0.8
    assert any("n/a" in reason for reason in result.reasons)


def test_sentence_transformers_does_not_count_as_transformers() -> None:
    result = ecosystem(card("# Card\n\nUse sentence-transformers.\n", license="apache-2.0"))
    assert result.inputs["integrations"] == ["sentence-transformers"]


@pytest.mark.parametrize(
    ("license_id", "category"),
    [("apache-2.0", "permissive"), ("cc-by-4.0", "permissive"), ("gpl-3.0", "copyleft"), ("cc-by-sa-4.0", "copyleft"),
     ("llama3.1", "restricted use"), ("cc-by-nc-4.0", "restricted use"), ("openrail", "restricted use"),
     ("other", "custom terms"), ("proprietary", "proprietary")],
)
def test_license_classes(license_id: str, category: str) -> None:
    assert classify_license(license_id).category == category


def test_access_open_gated_api_and_unknown() -> None:
    assert access_of(card(gated="manual"))[0] == "gated"
    assert access_of(card(CARDS.joinpath("the-stack-v2.md").read_text(encoding="utf-8")))[0] == "gated"
    assert access_of(card(license="proprietary"))[0] == "API"
    hosted = card("# Model\n\nThe model is only available through our API, billed per token.\n")
    assert access_of(hosted)[0] == "API"
    assert access_of(card(downloads=5))[0] == "open"
    assert access_of(card("# Model\n\nNo facts at all.\n")) == (None, "no hub listing, license or gate to tell")


def test_missing_sub_scores_give_their_weight_to_the_others() -> None:
    scores = score_artifact(card(), [capability("alpha")], as_of=AS_OF, weights=Weights())
    assert scores.adoption.score is None and scores.freshness.score is None
    quality_score, ecosystem_score = scores.quality.score, scores.ecosystem.score
    assert quality_score is not None and ecosystem_score is not None
    assert scores.rank == round((0.3 * quality_score + 0.2 * ecosystem_score) / 0.5 * 100)
    assert "their weights shared" in scores.rank_reason


def test_weights_only_matter_as_ratios_and_zero_drops_a_sub_score() -> None:
    facts = {"downloads": 1000, "likes": 10, "last_modified": "2025-01-01"}
    base = score_artifact(card(**facts), [capability("alpha")], as_of=AS_OF, weights=Weights())
    doubled = Weights(adoption=0.6, quality=0.6, ecosystem=0.4, freshness=0.4)
    assert score_artifact(card(**facts), [capability("alpha")], as_of=AS_OF, weights=doubled).rank == base.rank
    only_quality = Weights(adoption=0, quality=1, ecosystem=0, freshness=0)
    ranked = score_artifact(card(**facts), [capability("alpha")], as_of=AS_OF, weights=only_quality)
    assert ranked.rank == round((ranked.quality.score or 0) * 100)


def test_identical_artifacts_tie_and_every_record_pairs_with_itself() -> None:
    same = card(downloads=5000, likes=40, last_modified="2025-05-01")
    records = [capability("text classification", intents=("sorting reviews",)), capability("fast inference")]
    result = compare((same, decomposition(same, records)), (same, decomposition(same, records)), as_of=AS_OF)
    assert result.a.scores == result.b.scores
    assert result.headline == f"Tiny model and Tiny model rank level at {result.a.scores.rank}/100."
    assert result.verdict.startswith(f"Tiny model and Tiny model tie at {result.a.scores.rank}/100.")
    assert [(p.a_name, p.b_name, p.similarity) for p in result.matching.pairs] == [
        ("text classification", "text classification", 1.0), ("fast inference", "fast inference", 1.0),
    ]
    assert result.matching.overlap == 1.0


def test_missing_inputs_show_as_na_on_every_page_format() -> None:
    bare = card("# Bare\n\nNothing here.\n")
    full = card()
    result = compare((bare, decomposition(bare, [])), (full, decomposition(full, [capability("alpha")])), as_of=AS_OF)
    markdown = render_comparison(result, "md")
    assert "| Adoption | n/a | n/a |" in markdown
    assert "| Freshness | n/a | n/a |" in markdown
    assert "| Grounded | 0 of 0 (n/a) |" in markdown
    assert "| License | n/a | mit |" in markdown
    assert "Adoption and freshness are n/a for both." in result.verdict
    assert ">n/a</text>" in render_comparison(result, "html")
    assert '"adoption": {\n        "name": "adoption",\n        "score": null' in render_comparison(result, "json")
