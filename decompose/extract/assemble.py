"""From the checked drafts of every part to the records of the card, with notes on what was left out.

Order of the steps: drafts that are the same capability merge (and are grounded again with all their
evidence); strict mode drops what is still ungrounded; beyond 12 records the best-grounded 12 stay.
Each step that leaves something out says so in a note, so nothing disappears silently.
"""

from __future__ import annotations

from dataclasses import dataclass

from decompose.errors import DecomposeError
from decompose.extract.checking import Checked, Checker
from decompose.extract.ids import IdAllocator
from decompose.extract.merge import combine, group_same
from decompose.records import Capability, Card

MAX_CAPABILITIES = 12
FEW_CAPABILITIES = 3


class NothingGrounded(DecomposeError):
    """Strict mode left no record: the card is fine, but nothing the model said could be backed by it."""

    exit_code = 1


@dataclass(frozen=True)
class Assembled:
    capabilities: list[Capability]
    notes: list[str]


def assemble(card: Card, checker: Checker, checked: list[Checked], *, strict: bool) -> Assembled:
    kept = merge_checked(checker, checked)
    notes = _too_little(len(kept))
    if strict:
        kept, dropped = [item for item in kept if not item.ungrounded], [item for item in kept if item.ungrounded]
        if dropped:
            notes.append(f"strict mode dropped {_count(len(dropped), 'ungrounded record')}: {_names(dropped)}")
        if not kept:
            raise NothingGrounded(_nothing_left(card, len(dropped)))
    if len(kept) > MAX_CAPABILITIES:
        best = set(sorted(range(len(kept)), key=lambda index: (kept[index].rank(), index))[:MAX_CAPABILITIES])
        left_out = [item for index, item in enumerate(kept) if index not in best]
        notes.append(
            f"kept the {MAX_CAPABILITIES} best-grounded of {len(kept)} capabilities; left out: {_names(left_out)}"
        )
        kept = [item for index, item in enumerate(kept) if index in best]
    return Assembled(capabilities=to_records(card, kept), notes=notes)


def _too_little(found: int) -> list[str]:
    """What the card gave, before strict mode or the cap left anything out."""
    if found == 0:
        return ["the card had too little to decompose: no capability was found"]
    if found < FEW_CAPABILITIES:
        return [
            f"the card had little to decompose: {_count(found, 'capability', 'capabilities')} found "
            f"where {FEW_CAPABILITIES} to {MAX_CAPABILITIES} are expected"
        ]
    return []


def merge_checked(checker: Checker, checked: list[Checked]) -> list[Checked]:
    """Join the same capability said twice; a joined record is grounded again with all its evidence."""
    merged = []
    for group in group_same(item.draft for item in checked):
        members = sorted((checked[index] for index in group), key=lambda item: item.rank())
        if len(members) == 1:
            merged.append(members[0])
        else:
            merged.append(checker.check(combine([member.draft for member in members])))
    return merged


def to_records(card: Card, checked: list[Checked]) -> list[Capability]:
    ids = IdAllocator(card.name)
    return [
        Capability(
            id=ids.allocate(item.draft.name),
            name=item.draft.name,
            description=item.draft.description,
            unique=item.draft.unique,
            vs_alternatives=item.draft.vs_alternatives,
            category=item.draft.category or None,
            intents=item.draft.intents,
            limitations=item.draft.limitations,
            evidence=item.grounded.evidence,
            grounding=item.grounded.verdict,
            problems=item.grounded.problems,
        )
        for item in checked
    ]


def _nothing_left(card: Card, dropped: int) -> str:
    if dropped:
        return (
            f"card {card.source}: strict mode dropped all {_count(dropped, 'record')}, none is backed by the card; "
            "run without --strict to see them flagged with their problems"
        )
    return f"card {card.source}: strict mode: the card had too little to decompose (no capability was found)"


def _names(items: list[Checked]) -> str:
    return ", ".join(f'"{item.draft.name}"' for item in items)


def _count(number: int, singular: str, plural: str = "") -> str:
    return f"{number} {singular if number == 1 else plural or singular + 's'}"
