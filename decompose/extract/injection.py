"""Passages of a card that address the model ("ignore previous instructions and …"), not the reader.

The card reaches the model as data between markers, under a system rule to ignore instructions in it.
A model that obeys an injection anyway may quote the injected text itself as evidence, and the quote
is then, word for word, in the card. Such a quote backs nothing: a record that cites a paragraph with
an instruction-override phrase is flagged. The phrase list is deliberately narrow (override verbs
next to "previous / above / system … instructions / rules / prompt"), so ordinary prose is not caught;
a card that documents injection attacks will see its records citing them flagged, with the reason.
"""

from __future__ import annotations

import bisect
import re

from decompose.records import Evidence

OVERRIDE = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.\n]{0,40}?"
    r"\b(?:previous|prior|above|earlier|preceding|all|any|your|system)\b[^.\n]{0,30}?"
    r"\b(?:instructions?|rules?|prompts?|directions?|guidelines?)\b",
    re.IGNORECASE,
)
PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
PREVIEW = 60


class InstructionPassages:
    """The paragraphs of one card text that hold an instruction-override phrase."""

    def __init__(self, text: str) -> None:
        breaks = [0, *(match.end() for match in PARAGRAPH_BREAK.finditer(text)), len(text)]
        spans = []
        for match in OVERRIDE.finditer(text):
            index = bisect.bisect_right(breaks, match.start()) - 1
            span = (breaks[index], breaks[index + 1] if index + 1 < len(breaks) else len(text))
            if not spans or spans[-1] != span:
                spans.append(span)
        self._spans = spans

    def problems(self, evidence: list[Evidence]) -> list[str]:
        """One problem per aligned quote that lies in such a passage."""
        return [
            f'quote comes from text addressed to the model, not about the artifact: "{_preview(item.quote)}"'
            for item in evidence
            if item.start is not None and item.end is not None and self._inside(item.start, item.end)
        ]

    def _inside(self, start: int, end: int) -> bool:
        return any(span_start < end and start < span_end for span_start, span_end in self._spans)


def _preview(quote: str) -> str:
    flat = " ".join(quote.split())
    return flat if len(flat) <= PREVIEW else flat[:PREVIEW] + "…"
