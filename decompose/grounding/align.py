"""Finding an evidence quote in the card text: exactly, else in a normalised form, else approximately.

The normalised form ignores what an LLM copying a quote changes without changing its meaning:

- case, Unicode compatibility forms (NFKC: full-width digits, ligatures, no-break spaces), invisible
  format characters (zero-width space, soft hyphen), typographic quotes and dashes (“ ” ‘ ’ – —);
- whitespace: any run (line breaks included) counts as one space; next to a CJK character (Hangul,
  kana, ideographs) it counts as nothing, because word spacing there is loose: Korean spacing varies
  between writers, and Chinese or Japanese text wrapped in Markdown gets line breaks it does not have;
- Markdown and HTML markup: emphasis (`*`, `_`), code ticks, heading `#`s, list bullets and `>` at the
  start of a line, backslash escapes, the brackets and target of a link or image (`[text](url)` reads
  as `text`), HTML entities (`&amp;` reads as `&`); table pipes and HTML tags count as whitespace.

The card is normalised at most once (`Aligner`, with `decompose.grounding.fold`, on the first quote not
found exactly) with a map from every normalised character back to the original span it came from, so
normalised and fuzzy matches report offsets into the text as fetched.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from decompose.grounding.fold import Folded, fold
from decompose.grounding.fuzzy import GramIndex, find_approximate
from decompose.records import Evidence, MatchKind


def normalize(text: str) -> str:
    """The form in which a quote and the card are compared when they differ exactly."""
    return fold(text).text


@dataclass(frozen=True)
class Located:
    """Where a quote sits in the card: `text[start:end]`, how it matched, and how similar it is (0-1)."""

    start: int | None
    end: int | None
    match: MatchKind
    similarity: float


NOT_FOUND = Located(None, None, "none", 0.0)


class Aligner:
    """One card's text, normalised once, so that aligning many quotes costs one pass over the card."""

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def _folded(self) -> Folded:
        """Built on the first quote that is not in the card exactly: an answer whose quotes all are
        (common for clean cards) never pays for folding the card."""
        return fold(self.text)

    @cached_property
    def _grams(self) -> GramIndex:
        """Built on the first quote that needs an approximate search; most cards never need it."""
        return GramIndex(self._folded.text)

    def locate(self, quote: str) -> Located:
        """Find `quote`: exactly, else normalised, else approximately (fuzzy), else NOT_FOUND."""
        if not quote.strip():
            return NOT_FOUND
        start = self.text.find(quote)
        if start >= 0:
            return Located(start, start + len(quote), "exact", 1.0)
        needle = normalize(quote)
        if not needle.strip():
            return NOT_FOUND
        span = self._find_normalized(needle)
        if span is not None:
            return Located(span[0], span[1], "normalized", 1.0)
        approximate = find_approximate(self._grams, needle)
        if approximate is None:
            return NOT_FOUND
        first, last, similarity = approximate
        return Located(self._folded.starts[first], self._folded.ends[last - 1], "fuzzy", similarity)

    def _find_normalized(self, needle: str) -> tuple[int, int] | None:
        """The first occurrence of `needle` that begins and ends on whole original characters.

        One original character can normalise to several ("ﬁ" to "fi"); a match that takes only part of
        such a character would report a span whose text does not normalise to the quote.
        """
        folded, starts, ends = self._folded.text, self._folded.starts, self._folded.ends
        position = folded.find(needle)
        while position >= 0:
            last = position + len(needle) - 1
            begins_whole = position == 0 or starts[position - 1] != starts[position]
            ends_whole = last == len(folded) - 1 or ends[last + 1] != ends[last]
            if begins_whole and ends_whole:
                return starts[position], ends[last]
            position = folded.find(needle, position + 1)
        return None


def as_evidence(quote: str, located: Located) -> Evidence:
    """Contract evidence; quotes outside 8-400 characters raise pydantic's ValidationError."""
    return Evidence(quote=quote, start=located.start, end=located.end, match=located.match)


def align_quote(text: str, quote: str) -> Evidence:
    """Locate one quote in `text`; build a `CardIndex` instead when aligning several."""
    return as_evidence(quote, Aligner(text).locate(quote))
