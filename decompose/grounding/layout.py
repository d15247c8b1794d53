"""The parts of a card a quote can sit in: table rows and their cells, headings, sentences.

Attribution asks "which part of the card is this quote from?"; this module answers it from the
Markdown alone, once per card, without knowing which artifact the card is about.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_SEPARATOR_ROW = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
_PIPE = re.compile(r"(?<!\\)\|")
# Only the ends of matches are used; a sentence break begins with its mark (not a lookbehind) so that the
# regex engine can skip ahead to the next mark or line break.
_SENTENCE_BREAK = re.compile(
    r"[.!?。][\"')\]*_]*\s+|\n[ \t]*\n|\n(?=[ \t]*(?:[-*+][ \t]|\d+[.)][ \t]|#|\||>))"
)


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True)
class Row:
    """A table row: its cells' text spans, and the header row's cells (None for the header itself)."""

    span: Span
    cells: tuple[Span, ...]
    header: tuple[Span, ...] | None
    table: int


@dataclass(frozen=True)
class Heading:
    level: int
    title: Span
    line: Span


class Layout:
    """Tables, headings and sentence boundaries of one card text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._line_starts: list[int] = []
        self._rows: dict[int, Row] = {}
        self._headers: dict[int, tuple[Span, ...]] = {}
        self.labels: dict[int, list[Span]] = {}  # table number → first cells of its body rows
        self.headings: list[Heading] = []
        self._read_lines()
        self._breaks = [0] + [match.end() for match in _SENTENCE_BREAK.finditer(text)]

    def rows_in(self, start: int, end: int) -> list[Row]:
        """Every table row that `start:end` overlaps."""
        first = bisect.bisect_right(self._line_starts, start) - 1
        last = bisect.bisect_right(self._line_starts, max(start, end - 1)) - 1
        return [self._rows[line] for line in range(max(first, 0), last + 1) if line in self._rows]

    def sentence_at(self, position: int) -> Span:
        """The sentence (or list item, heading, paragraph) holding `position`."""
        index = bisect.bisect_right(self._breaks, position) - 1
        end = self._breaks[index + 1] if index + 1 < len(self._breaks) else len(self.text)
        return Span(self._breaks[index], end)

    def headings_above(self, position: int) -> list[Heading]:
        """The headings whose sections hold `position`, innermost first."""
        chain: list[Heading] = []
        for heading in reversed(self.headings):
            if heading.line.start > position:
                continue
            if not chain or heading.level < chain[-1].level:
                chain.append(heading)
        return chain

    def _read_lines(self) -> None:
        lines = self.text.split("\n")
        offset, in_fence, table, table_count = 0, False, None, 0
        front_matter = bool(lines) and lines[0].rstrip() == "---"
        for number, line in enumerate(lines):
            self._line_starts.append(offset)
            if front_matter:
                front_matter = number == 0 or line.rstrip() not in ("---", "...")
            elif _FENCE.match(line):
                in_fence = not in_fence
            elif not in_fence:
                heading = _HEADING.match(line)
                if heading:
                    title = Span(offset + heading.start(2), offset + heading.end(2))
                    self.headings.append(Heading(len(heading.group(1)), title, Span(offset, offset + len(line))))
                if "|" in line and table is not None:
                    self._add_row(number, offset, line, table)
                elif "|" in line and number + 1 < len(lines) and _SEPARATOR_ROW.match(lines[number + 1]):
                    table_count += 1
                    table = table_count
                    self._add_row(number, offset, line, table, is_header=True)
                else:
                    table = None
            offset += len(line) + 1

    def _add_row(self, number: int, offset: int, line: str, table: int, *, is_header: bool = False) -> None:
        if _SEPARATOR_ROW.match(line):
            return
        cells = _cells(line, offset)
        if is_header:
            self._headers[table] = cells
        header = None if is_header else self._headers.get(table)
        self._rows[number] = Row(Span(offset, offset + len(line)), cells, header, table)
        if not is_header and cells:
            self.labels.setdefault(table, []).append(cells[0])


def _cells(line: str, offset: int) -> tuple[Span, ...]:
    """The text spans of a row's cells, outer pipes and padding removed."""
    pipes = [match.start() for match in _PIPE.finditer(line)]
    segments = list(zip([-1, *pipes], [*pipes, len(line)]))
    if pipes and not line[: pipes[0]].strip():
        segments = segments[1:]
    if pipes and not line[pipes[-1] + 1 :].strip():
        segments = segments[:-1]
    cells = []
    for left, right in segments:
        raw = line[left + 1 : right]
        start = offset + left + 1 + len(raw) - len(raw.lstrip())
        cells.append(Span(start, start + len(raw.strip())))
    return tuple(cells)
