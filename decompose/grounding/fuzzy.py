"""Approximate search: a quote the LLM copied with small slips (a typo, a dropped word) in the card.

Both texts are already normalised (see `align`). The search seeds on 3-character grams shared by
the quote and the card, votes for the diagonal (card position minus quote position) they agree on,
and aligns the quote only inside the two or three windows with the most votes, so a 90 KB card costs
a dictionary lookup per gram rather than a full dynamic-programming pass.

A window is accepted when its similarity (2 × matched characters / total length, as `difflib`
computes it) is at least `MIN_SIMILARITY` and the differences change no meaning a record relies on:
- every number is the same ("4096 dimensions" never matches "2560 dimensions"; a thousands separator
  is not a difference);
- negations are the same ("not", "without", "않", "없", …);
- no word is replaced by a different word: a replaced Latin word must look like a typo of the card's
  word (`MIN_WORD_SIMILARITY`), and a replaced CJK character is always a different word ("긍정" vs
  "부정"). Dropped or added words are slips, and allowed.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from difflib import SequenceMatcher

from decompose.grounding.cjk import is_cjk

MIN_SIMILARITY = 0.9
MIN_WORD_SIMILARITY = 0.75
MIN_QUOTE_LENGTH = 16
"""Shorter normalised quotes are matched exactly or not at all: one slip in a few words is a new claim."""

_GRAM = 3
_MAX_OCCURRENCES = 400  # grams this common ("the", " of") say nothing about where the quote is
_CANDIDATES = 3
_MIN_VOTE_SHARE = 0.4

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3})")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_WORD = re.compile(r"[^\W\d_]+")
_NEGATION_WORDS = frozenset({"not", "no", "never", "without", "cannot", "nor", "none", "neither"})
_NEGATION_CHARS = "않못없不没無无非"


class GramIndex:
    """Where each 3-character gram of a normalised card text occurs."""

    def __init__(self, text: str) -> None:
        self.text = text
        positions: defaultdict[str, list[int]] = defaultdict(list)
        for index in range(len(text) - _GRAM + 1):
            positions[text[index : index + _GRAM]].append(index)
        self.positions = dict(positions)


def find_approximate(grams: GramIndex, needle: str) -> tuple[int, int, float] | None:
    """The best accepted approximate occurrence of `needle`: (start, end, similarity), or None."""
    if len(needle) < MIN_QUOTE_LENGTH:
        return None
    best: tuple[int, int, float] | None = None
    for window_start, window_end in _candidate_windows(grams, needle):
        span = _align_in_window(needle, grams.text, window_start, window_end)
        if span is None or (best is not None and span[2] <= best[2]):
            continue
        if span[2] >= MIN_SIMILARITY and same_meaning(needle, grams.text[span[0] : span[1]]):
            best = span
    return best


def _candidate_windows(grams: GramIndex, needle: str) -> list[tuple[int, int]]:
    """Card windows around the diagonals most of the quote's grams agree on."""
    bucket = max(8, len(needle) // 8)
    votes: Counter[int] = Counter()
    considered = 0
    for offset in range(len(needle) - _GRAM + 1):
        occurrences = grams.positions.get(needle[offset : offset + _GRAM], [])
        if len(occurrences) > _MAX_OCCURRENCES:
            continue
        considered += 1
        votes.update({(position - offset) // bucket for position in occurrences})
    if considered == 0:
        return []
    paired = Counter({key: count + votes.get(key + 1, 0) for key, count in votes.items()})
    slack = len(needle) // 10 + 4
    windows = []
    for key, count in paired.most_common(_CANDIDATES):
        if count < _MIN_VOTE_SHARE * considered:
            break
        start = max(0, key * bucket - slack)
        windows.append((start, min(len(grams.text), (key + 2) * bucket + len(needle) + slack)))
    return windows


def _align_in_window(needle: str, text: str, window_start: int, window_end: int) -> tuple[int, int, float] | None:
    """The span of the window that `needle` aligns to, trimmed of stray matches at either end."""
    window = text[window_start:window_end]
    matcher = SequenceMatcher(None, needle, window, autojunk=False)
    blocks = [block for block in matcher.get_matching_blocks() if block.size]
    if not blocks:
        return None

    def score(chosen: list) -> float:
        length = chosen[-1].b + chosen[-1].size - chosen[0].b
        return 2 * sum(block.size for block in chosen) / (len(needle) + length)

    while len(blocks) > 1 and score(blocks[1:]) > score(blocks):
        blocks = blocks[1:]
    while len(blocks) > 1 and score(blocks[:-1]) > score(blocks):
        blocks = blocks[:-1]
    start, end = window_start + blocks[0].b, window_start + blocks[-1].b + blocks[-1].size
    while start < end and text[start] == " ":
        start += 1
    while end > start and text[end - 1] == " ":
        end -= 1
    return start, end, score(blocks)


def same_meaning(quote: str, span: str) -> bool:
    """Whether the differences between a normalised quote and card span keep the numbers, negations and words."""
    if _numbers(quote) != _numbers(span) or _negations(quote) != _negations(span):
        return False
    quote_words, span_words = _words(quote), _words(span)
    for tag, q1, q2, s1, s2 in SequenceMatcher(None, quote_words, span_words, autojunk=False).get_opcodes():
        if tag != "replace":
            continue
        mine, theirs = " ".join(quote_words[q1:q2]), " ".join(span_words[s1:s2])
        if any(is_cjk(char) for char in mine + theirs):
            return False
        if SequenceMatcher(None, mine, theirs, autojunk=False).ratio() < MIN_WORD_SIMILARITY:
            return False
    return True


def _numbers(text: str) -> list[str]:
    return _NUMBER.findall(_THOUSANDS.sub("", text))


def _negations(text: str) -> int:
    words = _WORD.findall(text)
    return (
        sum(word in _NEGATION_WORDS for word in words)
        + text.count("n't")
        + sum(text.count(char) for char in _NEGATION_CHARS)
    )


def _words(text: str) -> list[str]:
    """Latin words whole; CJK text one character per word, since it is written without spaces."""
    words: list[str] = []
    for word in _WORD.findall(text):
        run = ""
        for char in word:
            if is_cjk(char):
                words.extend([run, char] if run else [char])
                run = ""
            else:
                run += char
        if run:
            words.append(run)
    return words
