"""The grounding verdict of one capability draft: are its quotes in the card, are its numbers in its quotes?"""

from __future__ import annotations

from dataclasses import dataclass

from decompose.grounding.align import CardIndex
from decompose.grounding.quantities import Quantity, quantities
from decompose.records import CapabilityDraft, Evidence, GroundingVerdict

_QUOTE_PREVIEW = 60


@dataclass(frozen=True)
class Grounded:
    """The draft's evidence located in the card, the verdict, and one line per problem found."""

    evidence: list[Evidence]
    verdict: GroundingVerdict
    problems: list[str]


def ground(card_text: str, draft: CapabilityDraft, index: CardIndex | None = None) -> Grounded:
    """Align every evidence quote and check every number the description and `unique` state.

    Numbers are looked for only in the card text the aligned quotes cover, never elsewhere in the card:
    a card states its siblings' numbers too (4096 in a table row of the 8B model), and a record must
    cite the passage that backs its claim. `vs_alternatives` is not checked, since it speaks of other
    products. Pass `index` to align the quotes of many drafts against one card in one pass.
    """
    if index is None:
        index = CardIndex(card_text)
    elif index.text != card_text:
        raise ValueError("the CardIndex was built from a different card text")
    evidence = [index.align(quote) for quote in draft.evidence]
    aligned = [item for item in evidence if item.match != "none"]
    problems = [f'quote not found in the card: "{_preview(item.quote)}"' for item in evidence if item.match == "none"]

    backing = [found for item in aligned for found in quantities(card_text[item.start : item.end])]
    unbacked: list[Quantity] = []
    for stated in quantities(draft.description) + quantities(draft.unique):
        if not any(stated.matches(found) for found in backing):
            unbacked.append(stated)
            problem = f"states {stated.raw} but no evidence quote contains it"
            if problem not in problems:
                problems.append(problem)

    if not aligned or unbacked:
        verdict: GroundingVerdict = "ungrounded"
    elif len(aligned) == len(evidence):
        verdict = "grounded"
    else:
        verdict = "partial"
    return Grounded(evidence=evidence, verdict=verdict, problems=problems)


def _preview(quote: str) -> str:
    """The quote on one line, cut to its first 60 characters."""
    flat = " ".join(quote.split())
    return flat if len(flat) <= _QUOTE_PREVIEW else flat[:_QUOTE_PREVIEW] + "…"
