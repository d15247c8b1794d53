"""Pair A's and B's records that describe the same capability, and say why each pair (or miss) was made.

similarity = 0.4 x name overlap + 0.6 x text similarity, or 1.0 when the normalised names are equal.
- name overlap: Jaccard of the names' normalised words (lower case, stop words dropped, plurals singular);
- text similarity: cosine of tf-idf vectors of name, description, unique, category and intents, with
  idf taken over the records of both sides, so words every record uses count for little.
Pairs are taken greedily, best first (ties by position), one-to-one, at or above THRESHOLD.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from decompose.compare.model import Match, Matching, Unmatched
from decompose.records import Capability

THRESHOLD = 0.35
NAME_WEIGHT = 0.4
SHOWN_TERMS = 4

STOP_WORDS = frozenset(
    """a about above after all also an and any are as at be because been being between both but by can could
    do does each for from has have how if in into is it its itself may more most much no not of on one only or
    other our over same so some such than that the their them then there these they this those through to too
    under up us use used uses using very was way we were what when where which while who will with within without
    would you your""".split()
)
WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class _Profile:
    """A record's normalised words: its name's, and the bag of its whole text's."""

    name_words: frozenset[str]
    terms: Counter[str]


def normalise(text: str) -> list[str]:
    """Lower-case words without stop words or one-letter tokens, plurals made singular."""
    return [_singular(word) for word in WORD.findall(text.lower()) if word not in STOP_WORDS and len(word) > 1]


def match_capabilities(
    a: Sequence[Capability], b: Sequence[Capability], *, a_label: str = "A", b_label: str = "B"
) -> Matching:
    """`a_label`/`b_label` name the sides in the explanations of records left unpaired."""
    profiles_a = [_profile(capability) for capability in a]
    profiles_b = [_profile(capability) for capability in b]
    idf = _idf([*profiles_a, *profiles_b])
    vectors_a = [_tfidf(profile, idf) for profile in profiles_a]
    vectors_b = [_tfidf(profile, idf) for profile in profiles_b]
    grid = [
        [_similarity(pa, pb, va, vb) for pb, vb in zip(profiles_b, vectors_b)]
        for pa, va in zip(profiles_a, vectors_a)
    ]
    candidates = sorted(
        ((grid[i][j], i, j) for i in range(len(a)) for j in range(len(b)) if grid[i][j] >= THRESHOLD),
        key=lambda item: (-item[0], item[1], item[2]),
    )
    partner_of_a: dict[int, int] = {}
    taken_b: set[int] = set()
    for _, i, j in candidates:
        if i not in partner_of_a and j not in taken_b:
            partner_of_a[i] = j
            taken_b.add(j)
    pairs = [
        _pair(a[i], b[j], grid[i][j], profiles_a[i], profiles_b[j], vectors_a[i], vectors_b[j])
        for i, j in sorted(partner_of_a.items())
    ]
    only_a = [_unmatched(a[i], grid[i], b, b_label) for i in range(len(a)) if i not in partner_of_a]
    only_b = [
        _unmatched(b[j], [grid[i][j] for i in range(len(a))], a, a_label) for j in range(len(b)) if j not in taken_b
    ]
    total = len(a) + len(b)
    overlap = round(2 * len(pairs) / total, 3) if total else None
    return Matching(threshold=THRESHOLD, pairs=pairs, only_a=only_a, only_b=only_b, overlap=overlap)


def needs_of(capability: Capability) -> list[str]:
    """The user needs a record serves: its intents, else its name."""
    return list(capability.intents) or [capability.name]


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _profile(capability: Capability) -> _Profile:
    parts = [capability.name, capability.description, capability.unique, capability.category or "", *capability.intents]
    text = " ".join(parts)
    return _Profile(frozenset(normalise(capability.name)), Counter(normalise(text)))


def _idf(profiles: Sequence[_Profile]) -> dict[str, float]:
    document_frequency: Counter[str] = Counter()
    for profile in profiles:
        document_frequency.update(profile.terms.keys())
    count = len(profiles)
    return {term: math.log((count + 1) / (df + 1)) + 1 for term, df in document_frequency.items()}


def _tfidf(profile: _Profile, idf: dict[str, float]) -> dict[str, float]:
    return {term: frequency * idf[term] for term, frequency in profile.terms.items()}


def _cosine(u: dict[str, float], v: dict[str, float]) -> float:
    dot = sum(weight * v[term] for term, weight in sorted(u.items()) if term in v)
    norm = math.sqrt(sum(w * w for _, w in sorted(u.items()))) * math.sqrt(sum(w * w for _, w in sorted(v.items())))
    return dot / norm if norm else 0.0


def _jaccard(x: frozenset[str], y: frozenset[str]) -> float:
    union = x | y
    return len(x & y) / len(union) if union else 0.0


def _similarity(pa: _Profile, pb: _Profile, va: dict[str, float], vb: dict[str, float]) -> float:
    if pa.name_words and pa.name_words == pb.name_words:
        return 1.0
    return round(NAME_WEIGHT * _jaccard(pa.name_words, pb.name_words) + (1 - NAME_WEIGHT) * _cosine(va, vb), 3)


def _shared_terms(va: dict[str, float], vb: dict[str, float]) -> list[str]:
    """The shared words that contribute most to the text similarity (ties alphabetical)."""
    shared = sorted((-(va[term] * vb[term]), term) for term in va.keys() & vb.keys())
    return [term for _, term in shared[:SHOWN_TERMS]]


def _pair(
    a: Capability, b: Capability, score: float, pa: _Profile, pb: _Profile, va: dict[str, float], vb: dict[str, float]
) -> Match:
    if score == 1.0 and pa.name_words == pb.name_words:
        reason = f"same normalised name \"{' '.join(sorted(pa.name_words))}\""
    else:
        common = sorted(pa.name_words & pb.name_words)
        name_part = (
            f"names share {', '.join(common)} (overlap {_jaccard(pa.name_words, pb.name_words):.2f})"
            if common
            else "names share no word"
        )
        terms = ", ".join(_shared_terms(va, vb)) or "none"
        reason = f"{name_part}; texts share {terms} (text similarity {_cosine(va, vb):.2f})"
    needs = list(dict.fromkeys([*needs_of(a), *needs_of(b)]))
    return Match(a=a.id, b=b.id, a_name=a.name, b_name=b.name, similarity=score, reason=reason, needs=needs)


def _unmatched(capability: Capability, scores: list[float], others: Sequence[Capability], other_side: str) -> Unmatched:
    if not others:
        reason = f"{other_side} has no capability records"
    else:
        best = max(range(len(others)), key=lambda index: (scores[index], -index))
        reason = (
            f"closest on {other_side}: \"{others[best].name}\" at {scores[best]:.2f}, "
            f"below the {THRESHOLD:.2f} threshold"
        )
        if scores[best] >= THRESHOLD:
            reason = f"\"{others[best].name}\" ({scores[best]:.2f}) was paired with a closer record"
    return Unmatched(id=capability.id, name=capability.name, needs=needs_of(capability), reason=reason)
