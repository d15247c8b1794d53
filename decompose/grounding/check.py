"""The grounding verdict of one record: are its quotes in the card, about this artifact, and do they
back its numbers; does the card contradict a method it states?

Verdicts (docs/decisions.md, "Grounding v2"):
- ungrounded: a quote is not found; or a number the description or `unique` states is in no quote
  about this artifact; or the card contradicts a method it states; or every quote is about another
  artifact; or it has no quote at all.
- partial: none of that, but a quote was found only approximately (fuzzy), or a quote is about
  another artifact: the card backs the record, yet not every quote does as given.
- grounded: every quote found as written (exactly or normalised), about this artifact, every number
  backed, no method contradicted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from decompose.grounding.align import as_evidence
from decompose.grounding.attribution import Attribution, Attributor, Piece
from decompose.grounding.index import CardIndex
from decompose.grounding.methods import contradictions
from decompose.grounding.quantities import Quantity, quantities
from decompose.records import Evidence, GroundingVerdict

_QUOTE_PREVIEW = 60


class Claim(Protocol):
    """What grounding reads from a record; `CapabilityDraft` is one."""

    @property
    def description(self) -> str: ...

    @property
    def unique(self) -> str: ...

    @property
    def evidence(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class Grounded:
    """The claim's evidence located in the card, the verdict, and one line per problem found."""

    evidence: list[Evidence]
    verdict: GroundingVerdict
    problems: list[str]


def ground(
    card_text: str, draft: Claim, index: CardIndex | None = None, *, subject: str | None = None
) -> Grounded:
    """Align every quote, attribute it, and check the numbers and methods the description and `unique` state.

    Numbers are looked for only in the parts of the aligned quotes that are about this artifact,
    never elsewhere in the card: a card states its siblings' numbers too (4096 in the 8B model's
    table row). `subject` names the artifact the record describes (default: the card's first `# `
    heading; "" turns attribution off). `vs_alternatives` is not checked: it speaks of other
    products. Pass `index` to check many records against one card cheaply.
    """
    if index is None:
        index = CardIndex(card_text)
    elif index.text != card_text:
        raise ValueError("the CardIndex was built from a different card text")
    subject_name = index.title if subject is None else subject
    attributor = index.attributor(subject_name) if subject_name else None

    quotes = list(draft.evidence)
    located = [index.locate(quote) for quote in quotes]
    problems: list[str] = []
    backing: list[tuple[Quantity, str | None]] = []
    abouts: list[str | None] = []
    for quote, place in zip(quotes, located):
        if place.start is None or place.end is None:
            problems.append(f'quote not found in the card: "{_preview(quote)}"')
            continue
        if place.match == "fuzzy":
            problems.append(f'quote found only approximately ({place.similarity:.0%} similar): "{_preview(quote)}"')
        found, about = _read_quote(card_text, place.start, place.end, attributor)
        backing += found
        abouts.append(about)
        if about is not None:
            problems.append(f'quote is about {about}: "{_preview(quote)}"')

    unbacked = _unbacked_quantities(draft, backing, problems)
    contradicted = contradictions(f"{draft.description}\n{draft.unique}", index.methods)
    problems += contradicted
    none_about_subject = None not in abouts
    if not quotes:
        problems.append("the record has no evidence quote")
    elif len(quotes) > 1 and none_about_subject and len(abouts) == len(quotes):
        problems.append("no quote is about this artifact")

    if len(abouts) < len(quotes) or unbacked or contradicted or none_about_subject:
        verdict: GroundingVerdict = "ungrounded"
    elif any(about is not None for about in abouts) or any(place.match == "fuzzy" for place in located):
        verdict = "partial"
    else:
        verdict = "grounded"
    evidence = [as_evidence(quote, place) for quote, place in zip(quotes, located)]
    return Grounded(evidence=evidence, verdict=verdict, problems=problems)


def _read_quote(
    card_text: str, start: int, end: int, attributor: Attributor | None
) -> tuple[list[tuple[Quantity, str | None]], str | None]:
    """The numbers a located quote states, each with the other artifact it is about (None: this one),
    and the other artifact the whole quote is about, if any."""
    if attributor is None:
        attribution = Attribution(None, (Piece(start, end, None),))
    else:
        attribution = attributor.attribute(start, end)
    found = [
        (quantity, piece.owner)
        for piece in attribution.pieces
        for quantity in quantities(card_text[piece.start : piece.end])
    ]
    return found, attribution.about or _owner_of_all(found)


def _owner_of_all(found: list[tuple[Quantity, str | None]]) -> str | None:
    """The other artifact that owns every number of a quote, if one does."""
    owners = {owner for _, owner in found}
    return owners.pop() if len(owners) == 1 else None


def _unbacked_quantities(draft: Claim, backing: list[tuple[Quantity, str | None]], problems: list[str]) -> bool:
    """Add one problem per stated number no quote about this artifact contains; whether there was any."""
    reported: list[Quantity] = []
    for stated in quantities(draft.description) + quantities(draft.unique):
        if any(stated.matches(found) for found, owner in backing if owner is None):
            continue
        if any(stated.matches(earlier) for earlier in reported):
            continue  # "7B" and "7 billion" are one problem
        reported.append(stated)
        elsewhere = next((owner for found, owner in backing if owner is not None and stated.matches(found)), None)
        problem = (
            f"states {stated.raw} but only a quote about {elsewhere} contains it"
            if elsewhere
            else f"states {stated.raw} but no evidence quote contains it"
        )
        problems.append(problem)
    return bool(reported)


def _preview(quote: str) -> str:
    """The quote on one line, cut to its first 60 characters."""
    flat = " ".join(quote.split())
    return flat if len(flat) <= _QUOTE_PREVIEW else flat[:_QUOTE_PREVIEW] + "…"
