"""Where the code is: fenced blocks and inline code spans, which cleaning leaves as they are.

Markup inside code (`<img>` in an HTML snippet, `[x](y)` in a regex) is what the code says, not
chrome around the card, so every cleaning step skips these spans; only BibTeX blocks are reduced.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

FENCE = re.compile(r" {0,3}(`{3,}|~{3,})([^\n]*)")
FENCE_LINE_START = re.compile(r"^ {0,3}(?:```|~~~)", re.MULTILINE)  # lines that may be fences
INLINE_CODE = re.compile(r"`(?<!``)[^`\n]+`(?!`)")  # the lookbehind after the "`" lets re skip to one


@dataclass(frozen=True)
class FencedBlock:
    """A fenced code block from its opening fence line to the end of its closing fence line."""

    start: int
    end: int
    info: str
    content_start: int
    content_end: int


def fenced_blocks(text: str) -> list[FencedBlock]:
    """Fenced blocks as CommonMark reads them; an unclosed fence runs to the end of the text."""
    blocks: list[FencedBlock] = []
    opening: tuple[int, str, str, int] | None = None  # start, fence, info, content start
    for candidate in FENCE_LINE_START.finditer(text):
        position = candidate.start()
        line_end = text.find("\n", position)
        next_line = len(text) if line_end < 0 else line_end + 1
        line = text[position : next_line].rstrip("\r\n")
        match = FENCE.fullmatch(line)
        if opening is None:
            if match and not (match.group(1)[0] == "`" and "`" in match.group(2)):
                opening = (position, match.group(1), match.group(2).strip(), next_line)
        elif match and match.group(1)[0] == opening[1][0] and len(match.group(1)) >= len(opening[1]):
            if not match.group(2).strip():
                blocks.append(FencedBlock(opening[0], next_line, opening[2], opening[3], position))
                opening = None
    if opening is not None:
        blocks.append(FencedBlock(opening[0], len(text), opening[2], opening[3], len(text)))
    return blocks


class CodeSpans:
    """The spans of a text that are code (fenced blocks and inline code), for overlap tests."""

    def __init__(self, text: str) -> None:
        self.blocks = fenced_blocks(text)
        spans = [(block.start, block.end) for block in self.blocks]
        inline: list[tuple[int, int]] = []
        for match in INLINE_CODE.finditer(text):
            if not _overlaps(spans, match.start(), match.end()):
                inline.append(match.span())
        self._spans = sorted(spans + inline)
        self._starts = [start for start, _ in self._spans]

    def overlaps(self, start: int, end: int) -> bool:
        """Whether `[start, end)` shares a character with a code span (an empty range: lies inside one)."""
        index = bisect.bisect_right(self._starts, max(end - 1, start)) - 1
        return index >= 0 and self._spans[index][1] > start


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(span_start < end and start < span_end for span_start, span_end in spans)
