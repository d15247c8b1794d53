"""Names of artifacts in card text, and whether each names the card's subject or another artifact.

The subject is the artifact the records describe ("Qwen3-Embedding-4B"; an org prefix such as
"Qwen/" is ignored). A name is compared by its tokens (lower-case runs of ASCII letters and digits,
articles dropped): it names the subject when its tokens are a contiguous run of the subject's
("KoELECTRA-Small-v3" in "KoELECTRA-Small-v3 NSMC 감성 분류 모델", the family "Qwen3" alone), and
another artifact otherwise. The family token is the subject's first token, skipping the words of a
template title ("Model Card for …"). Three kinds of text are taken as names:

- family names: the family token followed by more name parts ("Qwen3-Embedding-8B",
  "Qwen3-Reranker-4B", "The Stack v1"; parts after a space only when they read like a version, size
  or variant: v1, 8B, base, large, …);
- model-like identifiers: hyphenated words with a digit ("bge-m3", "text-embedding-3-large",
  "gpt-4o"), except standards, metrics and licences that look alike (UTF-8, top-1, L2-normalised,
  Apache-2.0), and repository ids ("org/name");
- self-references: "this model", "our dataset", "the model", "본 모델" (kind `self`: they refer to
  whatever the passage is about); "the 8B model" names another artifact when the subject's name has
  no "8B".

Any label may also be classified directly (`classify`), which attribution uses for table rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

Kind = Literal["subject", "other", "self"]

_TOKEN = re.compile(r"[a-z0-9]+(?:\.[a-z0-9]+)*")
_ARTICLES = frozenset({"the", "a", "an"})
_VARIANT = (
    r"(?:v\d+(?:\.\d+)*|\d+(?:\.\d+)?[kmbt]|small|base|large|tiny|mini|medium|xl|xxl|instruct|chat|cased|uncased)"
)
_IDENTIFIER = re.compile(
    r"(?<![A-Za-z0-9_./-])(?:[A-Za-z0-9_.-]+/)?([A-Za-z][A-Za-z0-9]*(?:[-_.][A-Za-z0-9]+)+)(?![A-Za-z0-9_-])"
)
_NOT_ARTIFACTS = frozenset(
    "utf utf8 sha md5 iso x86 arm64 top l1 l2 f1 fp16 fp32 bf16 int4 int8 pass covid apache cc gpl lgpl agpl "
    "mpl bsd mit openrail rfc ipv4 ipv6 h100 a100 v100 t4 cuda python py".split()
)
_SELF = re.compile(
    r"(?i)\b(?:this|our|the)\s+((?:[\w.-]+\s+){0,2}?)"
    r"(?:model|dataset|corpus|checkpoint|encoder|embedder|classifier|variant|version)s?\b"
    r"|\bours\b|\bwe\b|(?:이|본)\s*(?:모델|데이터셋|말뭉치)"
)
_GENERIC = frozenset({"model", "dataset", "card", "for", "of"})
_NAME_CHAR = re.compile(r"(?i)[a-z0-9_-]")
_FAMILY_TAIL = re.compile(rf"(?i)(?:[-_./][a-z0-9]+(?:\.\d+)*)*(?:[ ]{_VARIANT})*(?![a-z0-9])")
_SIZE = re.compile(r"(?i)^(?:\d+(?:\.\d+)?[kmbt]|v\d+(?:\.\d+)*)$")


def name_tokens(name: str) -> tuple[str, ...]:
    """The comparable tokens of a name: lower-case ASCII letter-digit runs, org prefix and articles dropped."""
    tail = name.strip().rsplit("/", 1)[-1]
    return tuple(token for token in _TOKEN.findall(tail.lower()) if token not in _ARTICLES)


@dataclass(frozen=True)
class Mention:
    """A name in the card text: where it is, what it says, and whom it names."""

    start: int
    end: int
    text: str
    kind: Kind


class Subject:
    """The artifact the records describe, and the rules for telling its name from others'."""

    def __init__(self, name: str) -> None:
        self.tokens = name_tokens(name)
        family = next((token for token in self.tokens if token not in _GENERIC), "")
        self._family_token = family
        self._family = re.compile(re.escape(family), re.IGNORECASE) if family else None

    def classify(self, label: str) -> Kind | None:
        """Whether `label` names the subject, another artifact, or (None) no artifact at all."""
        tokens = name_tokens(label)
        if not tokens or not any(char.isalpha() for char in "".join(tokens)):
            return None
        if _SELF.fullmatch(label.strip()):
            return "subject"
        return "subject" if self._is_subject(tokens) else "other"

    def names_another(self, label: str) -> bool:
        """Whether a table label names another artifact: not the subject, and written like a name
        (its family, a digit, a hyphen or slash, or inner capitals: "bge-m3", "BM25", "RoBERTa"), so
        that property rows such as "Layers" are not taken for artifacts."""
        text = label.strip()
        name_like = self.in_family(text) or bool(re.search(r"\d|[-/]|[a-z][A-Z]", text))
        return name_like and self.classify(text) == "other"

    def in_family(self, label: str) -> bool:
        """Whether `label` starts with the subject's family token ("Qwen3-Embedding-8B" for Qwen3-Embedding-4B)."""
        tokens = name_tokens(label)
        return bool(tokens) and tokens[0] == self._family_token

    def mentions(self, text: str, start: int = 0, end: int | None = None) -> list[Mention]:
        """The names in `text[start:end]`, in order, overlaps resolved in favour of the longest."""
        end = len(text) if end is None else end
        found: list[Mention] = []
        for first, last in self._family_names(text, start, end):
            found.append(self._mention(first, last, text[first:last]))
        for match in _IDENTIFIER.finditer(text, start, end):
            name = match.group(1)
            if self._looks_like_artifact(name):
                found.append(self._mention(match.start(), match.end(), match.group()))
        for match in _SELF.finditer(text, start, end):
            found.append(Mention(match.start(), match.end(), _lower_first(match.group()), self._self_reference(match)))
        return _without_overlaps(found)

    def _family_names(self, text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
        """Spans of `[the ]family[-parts][ variants]` in `text[start:end]`, as `finditer` would give them
        for one pattern: leftmost, not overlapping. The family is found as a literal and the rest with
        patterns compiled once, since compiling a pattern per subject cost more than the search."""
        if self._family is None:
            return
        resume = start
        for found in self._family.finditer(text, start, end):
            name_start = found.start()
            if name_start < resume or (name_start > 0 and _NAME_CHAR.match(text, name_start - 1)):
                continue
            tail = _FAMILY_TAIL.match(text, found.end(), end)
            if tail is None:
                continue
            first = _article_before(text, name_start, max(start, resume))
            resume = tail.end()
            yield first, resume

    def _mention(self, start: int, end: int, name: str) -> Mention:
        return Mention(start, end, name, "subject" if self._is_subject(name_tokens(name)) else "other")

    def _is_subject(self, tokens: tuple[str, ...]) -> bool:
        width = len(tokens)
        return any(self.tokens[index : index + width] == tokens for index in range(len(self.tokens) - width + 1))

    def _self_reference(self, match: re.Match[str]) -> Kind:
        """"the 8B model" names a sibling when the subject's name has no 8B; "this model" refers to
        whatever the passage is about (`self`), which is the subject unless a heading says otherwise."""
        words = (match.group(1) or "").split()
        sizes = [word.lower() for word in words if _SIZE.match(word)]
        return "other" if any(size not in self.tokens for size in sizes) else "self"

    @staticmethod
    def _looks_like_artifact(name: str) -> bool:
        parts = re.split(r"[-_.]", name.lower())
        return (
            any(char.isdigit() for char in name)
            and sum(char.isalpha() for char in name) >= 3
            and parts[0] not in _NOT_ARTIFACTS
            and any(len(re.sub(r"\d", "", part)) >= 2 for part in parts)
        )


def _lower_first(phrase: str) -> str:
    """"The 8B model" reads "the 8B model" inside a problem line."""
    return phrase[:1].lower() + phrase[1:]


def _without_overlaps(mentions: list[Mention]) -> list[Mention]:
    chosen: list[Mention] = []
    for mention in sorted(mentions, key=lambda item: (item.start, -(item.end - item.start))):
        if chosen and mention.start < chosen[-1].end:
            continue
        chosen.append(mention)
    return chosen


def _article_before(text: str, name_start: int, floor: int) -> int:
    """Where a name starting at `name_start` begins when "the" and whitespace precede it (the article
    starting a word, at or after `floor`); `name_start` otherwise."""
    article_end = name_start
    while article_end > floor and text[article_end - 1].isspace():
        article_end -= 1
    article = article_end - 3
    if article_end == name_start or article < floor or text[article:article_end].lower() != "the":
        return name_start
    if article > 0 and _NAME_CHAR.match(text, article - 1):
        return name_start
    return article
