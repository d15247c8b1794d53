"""The card completeness checklist behind the quality score: does the card tell a user what they need?

Each item looks for a heading or a telltale pattern in the card as fetched; what it found (or that it
found nothing) is the reason shown on the page. Headings are matched in English and Korean, the
languages of the cards we test with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from decompose.compare.licenses import card_license
from decompose.records import Card

FULL_LENGTH_WORDS = 1000
"""A card body of this many words or more gets full credit for length."""

INTENDED_USE_HEADING = re.compile(
    r"\b(intended uses?|uses|use cases?|direct use|applications?)\b|용도", re.IGNORECASE
)
INTENDED_USE_TEXT = re.compile(
    r"\b(intended (for|to)|meant for|designed for|typical uses|use cases?|is used for|can be used (for|to))\b",
    re.IGNORECASE,
)
LIMITATIONS_HEADING = re.compile(
    r"limitation|bias|risk|caveat|out[- ]of[- ]scope|considerations|한계|주의", re.IGNORECASE
)
EVALUATION_HEADING = re.compile(r"evaluat|results|benchmark|performance|metrics|성능|평가", re.IGNORECASE)
CITATION_HEADING = re.compile(r"citation|citing|cite|인용", re.IGNORECASE)
LICENSE_HEADING = re.compile(r"licen[cs]e|라이선스|라이센스", re.IGNORECASE)
BIBTEX_ENTRY = re.compile(r"@(article|misc|inproceedings|book|techreport|online|software)\s*\{", re.IGNORECASE)
ARXIV = re.compile(r"arxiv(\.org/abs/|:)\s*\d{4}\.\d{4,5}", re.IGNORECASE)
FENCE_OPEN = re.compile(r"^ {0,3}(```|~~~)[ \t]*([^\n`]*)$", re.MULTILINE)
NON_USAGE_FENCES = frozenset({"bibtex", "bib", "text", "txt", "yaml", "json", "latex", "tex"})
WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class ChecklistItem:
    name: str
    score: float
    finding: str


def card_checklist(card: Card) -> list[ChecklistItem]:
    """The seven items in a fixed order: license, intended use, limitations, evaluation results,
    usage example, citations, length."""
    return [
        _license(card),
        _heading_or_text(card, "intended use", INTENDED_USE_HEADING, INTENDED_USE_TEXT),
        _heading_or_text(card, "limitations", LIMITATIONS_HEADING, None),
        _evaluation(card),
        _usage_example(card),
        _citations(card),
        _length(card),
    ]


def _headings(card: Card) -> list[str]:
    return [section.title for section in card.sections if section.start >= card.body_start]


def _found_heading(card: Card, pattern: re.Pattern[str]) -> str | None:
    return next((title for title in _headings(card) if pattern.search(title)), None)


def _license(card: Card) -> ChecklistItem:
    license_id = card_license(card.metadata)
    if license_id is not None:
        return ChecklistItem("license", 1.0, f"\"{license_id}\" in the metadata")
    heading = _found_heading(card, LICENSE_HEADING)
    if heading is not None:
        return ChecklistItem("license", 1.0, f"section \"{heading}\"")
    return ChecklistItem("license", 0.0, "no license in the metadata and no license section")


def _heading_or_text(
    card: Card, name: str, heading_pattern: re.Pattern[str], text_pattern: re.Pattern[str] | None
) -> ChecklistItem:
    heading = _found_heading(card, heading_pattern)
    if heading is not None:
        return ChecklistItem(name, 1.0, f"section \"{heading}\"")
    if text_pattern is not None:
        phrase = text_pattern.search(card.text, card.body_start)
        if phrase is not None:
            return ChecklistItem(name, 1.0, f"the card says \"{phrase.group(0)}\"")
    return ChecklistItem(name, 0.0, f"no {name} section")


def _evaluation(card: Card) -> ChecklistItem:
    if card.metadata.get("model-index"):
        return ChecklistItem("evaluation results", 1.0, "model-index results in the metadata")
    heading = _found_heading(card, EVALUATION_HEADING)
    if heading is not None:
        return ChecklistItem("evaluation results", 1.0, f"section \"{heading}\"")
    return ChecklistItem("evaluation results", 0.0, "no evaluation results section or model-index")


def _usage_example(card: Card) -> ChecklistItem:
    """A fenced code block that is not a citation or a data listing (fence lines alternate open/close)."""
    opening = False
    for fence in FENCE_OPEN.finditer(card.text, card.body_start):
        opening = not opening
        if not opening:
            continue
        info = fence.group(2).strip().split(" ")[0].lower()
        following = card.text[fence.end() : fence.end() + 200].lstrip()
        if info not in NON_USAGE_FENCES and not BIBTEX_ENTRY.match(following):
            label = f"a {info} code block" if info else "a code block"
            return ChecklistItem("usage example", 1.0, label)
    return ChecklistItem("usage example", 0.0, "no code block showing usage")


def _citations(card: Card) -> ChecklistItem:
    heading = _found_heading(card, CITATION_HEADING)
    if heading is not None:
        return ChecklistItem("citations", 1.0, f"section \"{heading}\"")
    body = card.text[card.body_start :]
    if BIBTEX_ENTRY.search(body):
        return ChecklistItem("citations", 1.0, "a BibTeX entry")
    if ARXIV.search(body):
        return ChecklistItem("citations", 1.0, "an arXiv reference")
    return ChecklistItem("citations", 0.0, "no citation section, BibTeX entry or arXiv reference")


def _length(card: Card) -> ChecklistItem:
    words = len(WORD.findall(card.text, card.body_start))
    score = min(1.0, words / FULL_LENGTH_WORDS)
    return ChecklistItem("length", score, f"{words:,} words (full credit at {FULL_LENGTH_WORDS:,})")
