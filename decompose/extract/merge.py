"""Joining records that are the same capability said twice (in one answer or in two parts of a card).

The rule is deterministic and cheap, no LLM call: two drafts are the same capability when

- their names have the same key: lower-cased words, without stop words ("of", "for", "the" ...),
  plural "s" dropped, order ignored ("embedding of texts" = "text embeddings"); or
- their name keys share at least half of their words (Jaccard ≥ 0.5) and their descriptions share
  at least a quarter of their content words (Jaccard ≥ 0.25): similar names alone are not enough
  ("code search" and "code completion" are different things), similar wording confirms it.

A group of the same capability becomes one record: the best-grounded member's wording, and the
evidence of all members (duplicates removed, up to `records.MAX_MERGED_EVIDENCE` quotes), with
alternatives, intents and limitations joined up to their limits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from decompose.records import MAX_MERGED_EVIDENCE, Alternative, CapabilityDraft

STOP_WORDS = frozenset(
    "a an and as at by for from in into is it its of on or over the this that to with without via".split()
)
NAME_OVERLAP = 0.5
DESCRIPTION_OVERLAP = 0.25
MAX_ALTERNATIVES = 4
MAX_LISTED = 8


def name_key(name: str) -> frozenset[str]:
    return frozenset(_stem(word) for word in re.findall(r"\w+", name.lower()) if word not in STOP_WORDS)


def same_capability(first: CapabilityDraft, second: CapabilityDraft) -> bool:
    first_key, second_key = name_key(first.name), name_key(second.name)
    if first_key == second_key:
        return True
    if _jaccard(first_key, second_key) < NAME_OVERLAP:
        return False
    return _jaccard(_content_words(first.description), _content_words(second.description)) >= DESCRIPTION_OVERLAP


def group_same(drafts: Iterable[CapabilityDraft]) -> list[list[int]]:
    """Indices of `drafts` grouped by capability; each draft joins the first group whose first member
    it matches, so the result depends only on the order of the drafts."""
    items = list(drafts)
    groups: list[list[int]] = []
    for index, draft in enumerate(items):
        home = next((group for group in groups if same_capability(items[group[0]], draft)), None)
        if home is None:
            groups.append([index])
        else:
            home.append(index)
    return groups


def combine(members: list[CapabilityDraft]) -> CapabilityDraft:
    """One draft from members of the same capability, the first member's wording leading."""
    lead = members[0]
    if len(members) == 1:
        return lead
    quotes = list(dict.fromkeys(quote for member in members for quote in member.evidence))
    alternatives: dict[str, Alternative] = {}
    for member in members:
        for alternative in member.vs_alternatives:
            alternatives.setdefault(alternative.alternative.casefold(), alternative)
    return lead.model_copy(
        update={
            "evidence": quotes[:MAX_MERGED_EVIDENCE],
            "vs_alternatives": list(alternatives.values())[:MAX_ALTERNATIVES],
            "category": lead.category or next((member.category for member in members if member.category), ""),
            "intents": _joined(member.intents for member in members),
            "limitations": _joined(member.limitations for member in members),
        }
    )


def _joined(lists: Iterable[list[str]]) -> list[str]:
    return list(dict.fromkeys(item for items in lists for item in items))[:MAX_LISTED]


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _content_words(text: str) -> frozenset[str]:
    return frozenset(_stem(word) for word in re.findall(r"\w+", text.lower()) if word not in STOP_WORDS)


def _jaccard(first: frozenset[str], second: frozenset[str]) -> float:
    union = first | second
    return len(first & second) / len(union) if union else 0.0
