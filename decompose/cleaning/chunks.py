"""Splitting a cleaned card that is over the token budget into parts made of whole sections.

Tokens are estimated, not counted: a tokenizer depends on the model and would be a dependency of its
own, while the budget only has to keep requests well under a context window, the same way on every
machine. The estimate is ⌈(ASCII characters + 4 × other characters) / 4⌉: about 4 characters per
token for English text and code, and one token per character elsewhere (a Hangul syllable or a CJK
ideograph is one token or more in the common tokenizers), so non-Latin cards are over-, not
under-estimated.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from decompose.cleaning.offsets import MappedText
from decompose.records import Section

QUARTERS_PER_TOKEN = 4
INTRODUCTION = "the start of the card"
SPLITS = ("\n\n", "\n")  # a section over budget is cut between paragraphs, then between lines


def estimate_tokens(text: str) -> int:
    """⌈(ASCII characters + 4 × other characters) / 4⌉: see the module docstring."""
    return -(-_quarters(text) // QUARTERS_PER_TOKEN)


def _quarters(text: str) -> int:
    ascii_count = len(text.encode("ascii", "ignore"))
    return ascii_count + QUARTERS_PER_TOKEN * (len(text) - ascii_count)


@dataclass(frozen=True)
class Chunk:
    """One part of the cleaned card sent in one request; `titles` name the sections it holds."""

    text: str
    titles: tuple[str, ...]

    @property
    def label(self) -> str:
        return ", ".join(self.titles) if self.titles else INTRODUCTION


@dataclass(frozen=True)
class _Piece:
    title: str
    text: str


def plan_chunks(cleaned: MappedText, sections: Sequence[Section], budget: int) -> list[Chunk]:
    """The whole cleaned text when it fits `budget` tokens, else consecutive sections packed into parts.

    A section too long for one part is cut between paragraphs (then lines, then characters), so every
    part fits. Parts after the one holding the card's title line (its first level-1 heading) repeat
    that line first, so the model knows which artifact a part speaks about.
    """
    if budget <= 0:
        raise ValueError("the chunk budget must be positive")
    if estimate_tokens(cleaned.text) <= budget:
        return [Chunk(cleaned.text.strip(), tuple(section.title for section in sections))]
    title_line = _title_line(cleaned, sections)
    part_budget = budget - estimate_tokens(title_line + "\n\n") if title_line else budget
    pieces = [piece for unit in _units(cleaned, sections) for piece in _fit(unit, part_budget * QUARTERS_PER_TOKEN)]
    chunks: list[Chunk] = []
    group: list[_Piece] = []
    used = 0
    for piece in pieces:
        cost = _quarters(piece.text)
        if group and used + cost > part_budget * QUARTERS_PER_TOKEN:
            chunks.append(_chunk(group, title_line, first=not chunks))
            group, used = [], 0
        group.append(piece)
        used += cost
    if group:
        chunks.append(_chunk(group, title_line, first=not chunks))
    return chunks


def _units(cleaned: MappedText, sections: Sequence[Section]) -> list[_Piece]:
    """The text before the first heading, then each section, as the cleaning left them."""
    bounds = [(INTRODUCTION, 0)] + [(section.title, cleaned.position(section.start)) for section in sections]
    units = []
    for index, (title, start) in enumerate(bounds):
        end = bounds[index + 1][1] if index + 1 < len(bounds) else len(cleaned.text)
        text = cleaned.text[start:end]
        if text.strip():
            units.append(_Piece(title, text))
    return units


def _fit(piece: _Piece, limit: int, splits: tuple[str, ...] = SPLITS) -> list[_Piece]:
    """`piece`, cut at the first separator of `splits` that helps, into pieces of at most `limit` quarters."""
    if _quarters(piece.text) <= limit:
        return [piece]
    if not splits:
        return [_Piece(piece.title, text) for text in _cut_characters(piece.text, limit)]
    separator, rest = splits[0], splits[1:]
    parts = [part for part in re.split(f"(?<={re.escape(separator)})", piece.text) if part]
    fitted: list[_Piece] = []
    current = ""
    for part in parts:
        if current and _quarters(current + part) > limit:
            fitted.extend(_fit(_Piece(piece.title, current), limit, rest))
            current = ""
        current += part
    if current:
        fitted.extend(_fit(_Piece(piece.title, current), limit, rest))
    return fitted


def _cut_characters(text: str, limit: int) -> list[str]:
    pieces = []
    start = 0
    used = 0
    for index, char in enumerate(text):
        cost = 1 if char.isascii() else QUARTERS_PER_TOKEN
        if used + cost > limit:
            pieces.append(text[start:index])
            start, used = index, 0
        used += cost
    pieces.append(text[start:])
    return pieces


def _chunk(group: list[_Piece], title_line: str, *, first: bool) -> Chunk:
    text = "".join(piece.text for piece in group).strip()
    if title_line and not first and title_line not in text:
        text = f"{title_line}\n\n{text}"
    return Chunk(text, tuple(dict.fromkeys(piece.title for piece in group)))


def _title_line(cleaned: MappedText, sections: Sequence[Section]) -> str:
    title = next((section for section in sections if section.level == 1), None)
    if title is None:
        return ""
    start = cleaned.position(title.start)
    end = cleaned.text.find("\n", start)
    return cleaned.text[start : end if end >= 0 else len(cleaned.text)].strip()
