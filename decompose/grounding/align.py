"""Finding an evidence quote in the card text: exactly, else in a normalised form of both.

The normalised form ignores what an LLM copying a quote changes without changing its meaning: case,
Unicode compatibility forms (NFKC: full-width digits, ligatures, no-break spaces), invisible format
characters (zero-width space, soft hyphen), and whitespace, where any run of whitespace (line breaks
included) counts as one space. Next to a CJK character (Hangul, kana, ideographs) a whitespace run
counts as nothing, because word spacing there is loose: Korean spacing varies between writers, and
Chinese or Japanese text wrapped in Markdown gets line breaks where the sentence has none.

The card is normalised once (`CardIndex`) with a map from every normalised character back to the
original span it came from, so a normalised match reports offsets into the text as fetched.
"""

from __future__ import annotations

import unicodedata

from decompose.records import Evidence

# Blocks whose text is written without (or with loose) word spacing.
_CJK_BLOCKS = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x2E80, 0x2FDF),  # CJK and Kangxi radicals
    (0x3000, 0x30FF),  # CJK symbols and punctuation, Hiragana, Katakana
    (0x3130, 0x318F),  # Hangul compatibility Jamo
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA960, 0xA97F),  # Hangul Jamo extended A
    (0xAC00, 0xD7FF),  # Hangul syllables, Hangul Jamo extended B
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)


def is_cjk(char: str) -> bool:
    """Whether `char` belongs to a script written without reliable spaces between words."""
    code = ord(char)
    return any(low <= code <= high for low, high in _CJK_BLOCKS)


def _continues_cluster(char: str) -> bool:
    """Whether `char` joins the character before it, so both must be normalised together.

    Combining marks compose with their base under NFKC, and a Hangul medial vowel or final consonant
    composes with the jamo before it into one syllable.
    """
    code = ord(char)
    return (
        unicodedata.combining(char) != 0
        or 0x1160 <= code <= 0x11FF
        or 0xD7B0 <= code <= 0xD7FF
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
    )


def _fold(text: str) -> tuple[str, list[int], list[int]]:
    """Normalise `text`; return it with the original start and end offset of each of its characters."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    space_start = -1  # start of the whitespace run not yet emitted, -1 when there is none
    space_end = 0
    i, length = 0, len(text)
    while i < length:
        j = i + 1
        while j < length and _continues_cluster(text[j]):
            j += 1
        cluster = text[i:j]
        folded = cluster.lower() if cluster.isascii() else unicodedata.normalize("NFKC", cluster).casefold()
        for char in folded:
            if char.isspace():
                if space_start < 0:
                    space_start = i
                space_end = j
            elif not char.isascii() and unicodedata.category(char) == "Cf":
                continue
            else:
                if space_start >= 0:
                    if chars and not (is_cjk(chars[-1]) or is_cjk(char)):
                        chars.append(" ")
                        starts.append(space_start)
                        ends.append(space_end)
                    space_start = -1
                chars.append(char)
                starts.append(i)
                ends.append(j)
        i = j
    return "".join(chars), starts, ends


def normalize(text: str) -> str:
    """The form in which a quote and the card are compared when they differ exactly."""
    return _fold(text)[0]


class CardIndex:
    """One card's text, normalised once, so that aligning many quotes costs one pass over the card."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._folded, self._starts, self._ends = _fold(text)

    def align(self, quote: str) -> Evidence:
        """Locate `quote`: exactly, else normalised (offsets of the original span), else `none`.

        `Evidence` holds quotes of 8-400 characters only, so other quotes raise pydantic's
        ValidationError, as they do in a `CapabilityDraft`.
        """
        if quote.strip():
            start = self.text.find(quote)
            if start >= 0:
                return Evidence(quote=quote, start=start, end=start + len(quote), match="exact")
            needle = normalize(quote)
            span = self._find_normalized(needle) if needle else None
            if span is not None:
                return Evidence(quote=quote, start=span[0], end=span[1], match="normalized")
        return Evidence(quote=quote, match="none")

    def _find_normalized(self, needle: str) -> tuple[int, int] | None:
        """The first occurrence of `needle` that begins and ends on whole original characters.

        One original character can normalise to several ("ﬁ" to "fi"); a match that takes only part of
        such a character would report a span whose text does not normalise to the quote.
        """
        position = self._folded.find(needle)
        while position >= 0:
            last = position + len(needle) - 1
            begins_whole = position == 0 or self._starts[position - 1] != self._starts[position]
            ends_whole = last == len(self._folded) - 1 or self._ends[last + 1] != self._ends[last]
            if begins_whole and ends_whole:
                return self._starts[position], self._ends[last]
            position = self._folded.find(needle, position + 1)
        return None


def align_quote(text: str, quote: str) -> Evidence:
    """Locate one quote in `text`; build a `CardIndex` instead when aligning several."""
    return CardIndex(text).align(quote)
