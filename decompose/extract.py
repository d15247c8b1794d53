"""Card → grounded capability records: build the prompt, ask once, merge duplicates, ground each record.

The LLM only drafts; every record we keep carries the verdict of `grounding.ground` against the
card text as fetched, so a wrong number or an invented quote is visible, never silently trusted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from decompose.errors import LLMError
from decompose.grounding import CardIndex, ground
from decompose.llm import StructuredLLM, Usage
from decompose.prompts import load_prompt, render
from decompose.records import Capability, CapabilityAnswer, CapabilityDraft, Card

STEP = "extract"


@dataclass(frozen=True)
class Extraction:
    capabilities: list[Capability]
    usage: Usage


def build_messages(card: Card) -> list[dict[str, str]]:
    """The request depends on the card text alone, like the cache key: never on where it came from."""
    user = render(load_prompt("extract"), card_text=card.text)
    return [{"role": "system", "content": load_prompt("system").text}, {"role": "user", "content": user}]


def extract(card: Card, llm: StructuredLLM) -> Extraction:
    try:
        answer = llm.ask(build_messages(card), CapabilityAnswer, step=STEP)
    except LLMError as error:
        raise error.located(card=card.source, step=STEP) from None
    return Extraction(capabilities=to_capabilities(card, answer.value), usage=answer.usage)


async def aextract(card: Card, llm: StructuredLLM) -> Extraction:
    try:
        answer = await llm.aask(build_messages(card), CapabilityAnswer, step=STEP)
    except LLMError as error:
        raise error.located(card=card.source, step=STEP) from None
    return Extraction(capabilities=to_capabilities(card, answer.value), usage=answer.usage)


def to_capabilities(card: Card, answer: CapabilityAnswer) -> list[Capability]:
    index = CardIndex(card.text)
    ids = _IdAllocator(slug(card.name))
    records = []
    for draft in merge_duplicates(answer.capabilities):
        checked = ground(card.text, draft, index)
        records.append(
            Capability(
                id=ids.allocate(draft.name),
                name=draft.name,
                description=draft.description,
                unique=draft.unique,
                vs_alternatives=draft.vs_alternatives,
                category=draft.category or None,
                intents=draft.intents,
                limitations=draft.limitations,
                evidence=checked.evidence,
                grounding=checked.verdict,
                problems=checked.problems,
            )
        )
    return records


def merge_duplicates(drafts: list[CapabilityDraft]) -> list[CapabilityDraft]:
    """Join drafts with the same name: the first wording wins, evidence from all of them is kept."""
    merged: dict[str, CapabilityDraft] = {}
    for draft in drafts:
        first = merged.get(draft.name)
        if first is None:
            merged[draft.name] = draft
            continue
        quotes = list(dict.fromkeys([*first.evidence, *draft.evidence]))
        merged[draft.name] = first.model_copy(update={"evidence": quotes})
    return list(merged.values())


def slug(text: str) -> str:
    """Lower-case, words joined by '-'; keeps non-ASCII letters so Korean names stay readable."""
    words = re.findall(r"\w+(?:\.\w+)*", text.lower())
    return "-".join(words)[:80] or "item"


class _IdAllocator:
    """Record ids are `<artifact>/<capability>`, suffixed -2, -3 … when two names slug alike."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._seen: dict[str, int] = {}

    def allocate(self, name: str) -> str:
        base = f"{self._prefix}/{slug(name)}"
        count = self._seen.get(base, 0) + 1
        self._seen[base] = count
        return base if count == 1 else f"{base}-{count}"
