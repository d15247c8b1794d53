"""Text derived from a card by edits, with every character mapped back to the card as fetched.

Each cleaning step deletes or replaces spans of the current text; `MappedText.edited` applies one
step and carries the map along, so after any number of steps `original_span` still answers "which
characters of the fetched card did this part of the cleaned text come from". A character a step
inserts (a line break standing for a removed `<p>` tag) maps to the whole span it replaced.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterable
from dataclasses import dataclass

COUNTING_CACHE_LIMIT = 1 << 18
"""Cards up to this many characters (a 2 MB array) get their identity map sliced from a kept array:
building an array from a range costs about 40 ns per element, copying a slice of one almost nothing."""
_counting_cache = array("q")


def _counting(start: int, stop: int) -> array[int]:
    """`array("q", range(start, stop))`, sliced from a kept array when it is short enough."""
    global _counting_cache
    if stop > COUNTING_CACHE_LIMIT:
        return array("q", range(start, stop))
    if stop > len(_counting_cache):
        _counting_cache = array("q", range(min(max(stop, 2 * len(_counting_cache)), COUNTING_CACHE_LIMIT)))
    return _counting_cache[start:stop]


@dataclass(frozen=True)
class Edit:
    """Replace `text[start:end]` with `replacement` (empty: delete it)."""

    start: int
    end: int
    replacement: str = ""


@dataclass(frozen=True)
class MappedText:
    """`text` plus, for each of its characters, the original span `[starts[i], ends[i])` it came from.

    The offsets are machine-integer arrays (8 bytes each), not lists: a card may hold 2 MB of text.
    """

    text: str
    starts: array[int]
    ends: array[int]
    original_length: int

    @classmethod
    def identity(cls, text: str) -> MappedText:
        return cls(text, _counting(0, len(text)), _counting(1, len(text) + 1), len(text))

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original span that `text[start:end]` was derived from (`start < end`)."""
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"span {start}:{end} is not inside the text (length {len(self.text)})")
        return self.starts[start], self.ends[end - 1]

    def position(self, original_offset: int) -> int:
        """The first character of `text` that comes from at or after `original_offset`."""
        return bisect.bisect_left(self.starts, original_offset)

    def edited(self, edits: Iterable[Edit]) -> MappedText:
        """Apply non-overlapping edits (an edit overlapping an earlier-starting one is skipped); without
        edits, `self` is returned as it is, so a caller can tell that nothing changed."""
        ordered = sorted(edits, key=lambda item: (item.start, item.end))
        if not ordered:
            return self
        pieces: list[str] = []
        starts = array("q")
        ends = array("q")
        cursor = 0
        for edit in ordered:
            if edit.start < cursor or edit.end < edit.start:
                continue
            pieces.append(self.text[cursor : edit.start])
            starts.extend(self.starts[cursor : edit.start])
            ends.extend(self.ends[cursor : edit.start])
            if edit.replacement:
                origin_start, origin_end = self._origin_of_gap(edit.start, edit.end)
                pieces.append(edit.replacement)
                starts.extend(array("q", [origin_start]) * len(edit.replacement))
                ends.extend(array("q", [origin_end]) * len(edit.replacement))
            cursor = edit.end
        pieces.append(self.text[cursor:])
        starts.extend(self.starts[cursor:])
        ends.extend(self.ends[cursor:])
        return MappedText("".join(pieces), starts, ends, self.original_length)

    def _origin_of_gap(self, start: int, end: int) -> tuple[int, int]:
        """The original span replaced by `text[start:end]`; for an insertion, the point it sits at."""
        if start < end:
            return self.starts[start], self.ends[end - 1]
        point = self.starts[start] if start < len(self.starts) else self.original_length
        return point, point
