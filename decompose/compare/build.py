"""Assemble a `Comparison` from two (card, decomposition) pairs: scores, matches, headline, verdict.

Everything that varies between runs is an explicit argument (the reference date, the weights), so
the same cards, records, date and weights give the same comparison, and so the same page.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, BinaryIO

from decompose.compare.licenses import access_of, card_license
from decompose.compare.matching import match_capabilities
from decompose.compare.model import Comparison, Side, Weights
from decompose.compare.scores import grounded_share, score_artifact
from decompose.compare.verdict import headline, labels, verdict
from decompose.records import Card, Decomposition

if TYPE_CHECKING:
    from decompose.api import Decomposer  # only a parameter type: comparing needs no LLM stack


def compare(
    a: tuple[Card, Decomposition], b: tuple[Card, Decomposition], *, as_of: date, weights: Weights | None = None
) -> Comparison:
    """Compare two decomposed cards as of a reference date (freshness is measured against it)."""
    chosen = weights or Weights()
    side_a, side_b = (_side(card, decomposition, as_of, chosen) for card, decomposition in (a, b))
    label_a, label_b = labels(side_a, side_b)
    return Comparison(
        title=f"{label_a} vs {label_b}",
        as_of=as_of.isoformat(),
        weights=chosen,
        headline=headline(side_a, side_b),
        a=side_a,
        b=side_b,
        matching=match_capabilities(side_a.capabilities, side_b.capabilities, a_label=label_a, b_label=label_b),
        verdict=verdict(side_a, side_b),
    )


def compare_sources(
    decomposer: Decomposer,
    source_a: str,
    source_b: str,
    *,
    as_of: date,
    weights: Weights | None = None,
    stdin: BinaryIO | None = None,
) -> Comparison:
    """Decompose both sources (the cache first; each card is fetched once) and compare them."""
    first = decomposer.decompose_with_card(source_a, stdin=stdin)
    second = first if source_b == source_a else decomposer.decompose_with_card(source_b, stdin=stdin)
    return compare(first, second, as_of=as_of, weights=weights)


def _side(card: Card, decomposition: Decomposition, as_of: date, weights: Weights) -> Side:
    artifact, capabilities = decomposition.artifact, decomposition.capabilities
    access, access_reason = access_of(card)
    verdicts = [capability.grounding for capability in capabilities]
    return Side(
        id=artifact.id,
        name=display_name(card, decomposition),
        kind=artifact.kind,
        url=artifact.url,
        license=card_license(card.metadata),
        access=access,
        access_reason=access_reason,
        scores=score_artifact(card, capabilities, as_of=as_of, weights=weights),
        capabilities=capabilities,
        grounded=verdicts.count("grounded"),
        partial=verdicts.count("partial"),
        ungrounded=verdicts.count("ungrounded"),
        grounded_share=grounded_share(capabilities),
        records_model=decomposition.provenance.model,
        prompt_version=decomposition.provenance.prompt_version,
    )


def display_name(card: Card, decomposition: Decomposition) -> str:
    """A dataset card's `pretty_name` (what the hub shows, "The Stack v2"), else the artifact's name."""
    pretty = card.metadata.get("pretty_name")
    return pretty.strip() if isinstance(pretty, str) and pretty.strip() else decomposition.artifact.name
