"""Method claims a card can contradict: a record saying "mean pooling" where the card says last token.

Numbers are checked against the quotes; a method is a word, and an LLM that gets it wrong usually
quotes a true sentence next to its wrong claim. So methods are checked against the whole card: for
each family of mutually exclusive methods below, a record that states one method contradicts the
card when the card states another of the same family and never the record's own (outside negations:
"instead of averaging token states" states no mean pooling). A card that says nothing about a family
contradicts nothing. Only the families listed are known; any other wrong method goes unnoticed here,
and is caught only when its quote does not exist.

Known families: pooling (mean, [CLS], last token, max) and classification labels (binary vs three
or more classes, e.g. a "neutral" class a binary sentiment card rules out).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Method:
    """`keywords`: lower-case words one of which every match of `pattern` holds, so a card without
    any of them is passed over without running `pattern` over it (the regex scan is the slow part)."""

    family: str
    name: str
    pattern: re.Pattern[str]
    keywords: tuple[str, ...]


def _method(family: str, name: str, pattern: str, keywords: tuple[str, ...]) -> Method:
    return Method(family, name, re.compile(pattern, re.IGNORECASE), keywords)


_TOKENS = (
    r"(?:all\s+|every\s+|the\s+)*(?:input\s+|output\s+)?"
    r"(?:tokens?|hidden\s+states?|token\s+(?:states|embeddings|vectors)|word\s+vectors)"
)
METHODS: tuple[Method, ...] = (
    _method(
        "pooling",
        "mean pooling",
        rf"\b(?:mean|average|averaged)[- ]pool\w*|\bmean[- ]pooled\b|\b(?:mean|average)\s+of\s+{_TOKENS}"
        rf"|\baverag(?:e|es|ed|ing)\s+(?:over\s+|of\s+|across\s+)?{_TOKENS}|평균\s*(?:풀링|pooling)",
        ("mean", "averag", "평균"),
    ),
    _method(
        "pooling",
        "[CLS] pooling",
        r"\[cls\](?:[- ]token)?|\bcls[- ](?:token|pool\w*|embedding|vector|representation)|cls\s*토큰",
        ("cls",),
    ),
    _method(
        "pooling",
        "last-token pooling",
        r"\b(?:last|final)[- ](?:real\s+)?token\b|\[eos\]|\beos[- ](?:token|pool\w*)"
        r"|hidden\s+state\s+(?:at|of)\s+the\s+(?:final|last)\s+(?:position|token)|마지막\s*토큰",
        ("last", "final", "eos", "마지막"),
    ),
    _method("pooling", "max pooling", r"\bmax(?:imum)?[- ]pool\w*", ("max",)),
    _method(
        "classification labels",
        "binary classification",
        r"\bbinary\s+(?:\w+\s+){0,2}?(?:classif\w*|labels?|task)|\btwo[- ](?:class|label|way)\b|이진\s*(?:감성\s*)?분류",
        ("binary", "two", "이진"),
    ),
    _method(
        "classification labels",
        "three-or-more-class classification",
        r"\b(?:three|3|multi)[- ](?:class|label|way)\b|\bneutral\s+(?:class|label|category)"
        r"|\b(?:positive|negative),\s+(?:positive|negative),?\s+(?:and|or)\s+neutral\b|다중\s*분류|중립\s*(?:레이블|클래스)",
        ("class", "label", "way", "neutral", "다중", "중립"),
    ),
)

_NEGATION_BEFORE = re.compile(
    r"(?:\b(?:instead of|rather than|not|no|never|unlike|without|nor|versus|vs\.?|lacks?|lack of|lacking|absence of)"
    r"|n't)\W+(?:\w+\W+){0,3}$",
    re.IGNORECASE,
)
_NEGATION_AFTER = re.compile(r"\s*(?:은|는|이|가|도)?\s*(?:없|아니|않)")  # Korean negates after the noun
_NEGATION_WINDOW = 40
_IGNORECASE_FOLDS = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s"})


def stated_methods(text: str) -> set[Method]:
    """The methods `text` states outright: a mention right after a negation or contrast ("instead of",
    "unlike", "lacks") or, in Korean, right before one ("중립 레이블은 없습니다") is skipped."""
    folded = _case_folded(text)
    found = set()
    for method in METHODS:
        if not any(keyword in folded for keyword in method.keywords):
            continue
        for match in method.pattern.finditer(text):
            before = text[max(0, match.start() - _NEGATION_WINDOW) : match.start()]
            if not _NEGATION_BEFORE.search(before) and not _NEGATION_AFTER.match(text, match.end()):
                found.add(method)
                break
    return found


def _case_folded(text: str) -> str:
    """`text` lower-cased one character for one, folding as `re.IGNORECASE` does: the dotless ı and
    the long ſ match "i" and "s" there, and "İ" would lower to two characters."""
    return text.translate(_IGNORECASE_FOLDS).lower()


def contradictions(claim: str, card_methods: set[Method]) -> list[str]:
    """One problem per method the claim states that the card contradicts."""
    problems = []
    for method in sorted(stated_methods(claim), key=METHODS.index):
        if method in card_methods:
            continue
        rivals = [other.name for other in METHODS if other in card_methods and other.family == method.family]
        if rivals:
            problems.append(f"states {method.name} but the card says {' and '.join(rivals)}")
    return problems
