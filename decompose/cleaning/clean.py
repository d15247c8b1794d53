"""The card as the LLM reads it: chrome removed, every character mapped back to the card as fetched.

Real cards spend much of their length on things no capability rests on: logos, badges, HTML layout,
comments, evaluation tables in the front matter, author lists of citations, the same link bar twice.
They cost tokens and distract the model. Grounding still aligns quotes against the fetched text, so
offsets in the output always index the card as fetched; the map relates the two texts (the chunker
finds where each section of the card begins in the cleaned text through it).
"""

from __future__ import annotations

from collections.abc import Callable

from decompose.cleaning import markup
from decompose.cleaning.code import CodeSpans
from decompose.cleaning.offsets import Edit, MappedText
from decompose.records import Card

VERSION = "markup-1"
"""Names the cleaning rules; part of every cache key, so changing a rule must change it."""

Step = Callable[[str, CodeSpans], list[Edit]]
STEPS: tuple[Step, ...] = (
    markup.bibtex,
    markup.hidden_content,
    markup.images,
    markup.links,
    markup.html_tags,
    markup.table_delimiters,
    markup.trailing_space,
    markup.separator_lines,
    markup.placeholders,
)
MAX_EMPTY_SECTION_PASSES = 6


def clean(text: str, body_start: int = 0) -> MappedText:
    """Clean card text whose YAML front matter (if any) ends at `body_start`."""
    mapped = MappedText.identity(text).edited(markup.front_matter(text, body_start))
    code = CodeSpans(mapped.text)
    for step in STEPS:
        mapped, code = _apply(mapped, code, step(mapped.text, code))
    body = mapped.position(body_start)
    mapped, code = _apply(mapped, code, markup.repeated_paragraphs(mapped.text, code, body))
    for _ in range(MAX_EMPTY_SECTION_PASSES):  # a parent empties once its empty subsections go
        edits = markup.empty_sections(mapped.text, code)
        if not edits:
            break
        mapped, code = _apply(mapped, code, edits)
    return mapped.edited(markup.blank_lines(mapped.text, code))


def _apply(mapped: MappedText, code: CodeSpans, edits: list[Edit]) -> tuple[MappedText, CodeSpans]:
    """`mapped` after `edits`, with its code spans found again only when the text changed."""
    edited = mapped.edited(edits)
    return (mapped, code) if edited is mapped else (edited, CodeSpans(edited.text))


def clean_card(card: Card) -> MappedText:
    return clean(card.text, card.body_start)
