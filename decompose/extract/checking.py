"""Grounding drafts against the card as fetched, and ranking them by how well they are grounded.

The model reads the cleaned card, but quotes are aligned against the text as fetched, so evidence
offsets always index the original; grounding tolerates the markup cleaning removed (tags, links,
table pipes). A quote from a passage that addresses the model makes its record ungrounded.
"""

from __future__ import annotations

from dataclasses import dataclass

from decompose.extract.injection import InstructionPassages
from decompose.grounding import CardIndex, Grounded, ground
from decompose.records import CapabilityDraft, Card

VERDICT_RANK = {"grounded": 0, "partial": 1, "ungrounded": 2}


@dataclass(frozen=True)
class Checked:
    """A draft with its grounding verdict."""

    draft: CapabilityDraft
    grounded: Grounded

    @property
    def ungrounded(self) -> bool:
        return self.grounded.verdict == "ungrounded"

    def rank(self) -> tuple[int, int, int]:
        """Smaller is better grounded: verdict, then more aligned quotes, then fewer problems."""
        aligned = sum(item.match != "none" for item in self.grounded.evidence)
        return VERDICT_RANK[self.grounded.verdict], -aligned, len(self.grounded.problems)


class Checker:
    """Grounds the drafts of one card; the card is indexed once for all of them."""

    def __init__(self, card: Card) -> None:
        self._card = card
        self._index = CardIndex(card.text)
        self._instructions = InstructionPassages(card.text)

    def check(self, draft: CapabilityDraft) -> Checked:
        grounded = ground(self._card.text, draft, self._index, subject=self._card.name)
        problems = self._instructions.problems(grounded.evidence)
        if problems:  # a record citing text that addresses the model is ungrounded, whatever it says
            problems = [*grounded.problems, *problems]
            grounded = Grounded(evidence=grounded.evidence, verdict="ungrounded", problems=problems)
        return Checked(draft, grounded)

    def check_all(self, drafts: list[CapabilityDraft]) -> list[Checked]:
        return [self.check(draft) for draft in drafts]
