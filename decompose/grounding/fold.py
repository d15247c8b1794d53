"""The normalised form of a text, with a map from each of its characters back to the original span.

What the normalised form ignores is described in `decompose.grounding.align`. Folding is the one
pass over the whole card that grounding makes, so runs of plain ASCII (letters, digits, most
punctuation, whitespace) are folded in bulk with string and integer operations; every other
character goes through the general per-character step. The result is the same as if every
character had gone through that step (tests/test_perf_paths.py checks it).
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from itertools import compress

from decompose.grounding.cjk import is_cjk

_KEEP, _DROP, _SPACE = 0, 1, 2
_DROPPED_CHARS = frozenset("*_`")
_SPACE_CHARS = frozenset("|")
_TYPOGRAPHY = str.maketrans(
    {"‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"',
     "«": '"', "»": '"', "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-"}
)
_LINK = re.compile(r"(!?\[)([^\[\]\n]*)(\]\([^()\s]*(?:\s+\"[^\"\n]*\")?\))")
_HTML = re.compile(r"<!--.*?-->|</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>", re.DOTALL)
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_LINE_MARKER = re.compile(r"(?m)^[ \t]*(?:#{1,6}(?=[ \t])|[-*+](?=[ \t])|>+)")
_ESCAPE = re.compile(r"\\(?=[\\`*_{}\[\]()#+\-.!|<>])")
_MARKED = re.compile(rb"[^\x00]+")
_MASK = "\x00"
# Plain ASCII: what folds to itself lower-cased, one character each (everything from `!` to `~`
# except `&`, which may start an entity, `*`, `_`, `` ` ``, which are dropped, and `|`, which reads as
# whitespace), and ASCII whitespace (what str.isspace() accepts below 128).
_SIMPLE_RUN = re.compile(r"[\t-\r\x1c-\x20!-%'-)+-^a-{}~]+")
_IS_SPACE = bytes(1 if chr(code).isspace() else 0 for code in range(256))


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


def _markup(text: str) -> tuple[bytearray, dict[int, tuple[int, str]]]:
    """Per character: keep, drop or read as whitespace; and entities to read as the character they name."""
    kinds = bytearray(len(text))
    for match in _LINK.finditer(text):
        kinds[match.start(1) : match.end(1)] = bytes([_DROP]) * len(match.group(1))
        kinds[match.start(3) : match.end(3)] = bytes([_DROP]) * len(match.group(3))
    for match in _HTML.finditer(text):
        kinds[match.start() : match.end()] = bytes([_SPACE]) * (match.end() - match.start())
    for pattern in (_LINE_MARKER, _ESCAPE):
        for match in pattern.finditer(text):
            kinds[match.start() : match.end()] = bytes([_DROP]) * (match.end() - match.start())
    entities = {}
    for match in _ENTITY.finditer(text):
        if kinds[match.start()] == _KEEP and (decoded := html.unescape(match.group())) != match.group():
            entities[match.start()] = (match.end(), decoded)
    return kinds, entities


def _unmarked(text: str, kinds: bytearray) -> str:
    """`text` with every dropped or whitespace-kind character masked, so bulk runs stop there."""
    pieces, position = [], 0
    for match in _MARKED.finditer(kinds):
        pieces += [text[position : match.start()], _MASK * (match.end() - match.start())]
        position = match.end()
    return "".join([*pieces, text[position:]]) if pieces else text


@dataclass(frozen=True)
class Folded:
    """A normalised text with, for each of its characters, the original span it came from."""

    text: str
    starts: list[int]
    ends: list[int]


class _Folder:
    """The state of one pass: output so far, and the whitespace run not yet emitted."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.kinds, self.entities = _markup(text)
        self.pieces: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.last = ""  # the last character emitted
        self.space_start = -1  # start of the whitespace run not yet emitted, -1 when there is none
        self.space_end = 0

    def run(self) -> Folded:
        text, length = self.text, len(self.text)
        unmarked = _unmarked(text, self.kinds)
        i = 0
        while i < length:
            simple = _SIMPLE_RUN.search(unmarked, i)
            next_simple = length if simple is None else simple.start()
            while i < next_simple:
                i = self._step(i)
            if simple is None or i > next_simple:  # done, or an entity or cluster reached into the run
                continue
            end = simple.end()
            if end < length and _continues_cluster(text[end]):
                end -= 1  # the run's last character starts a cluster: leave it to the general step
            if end > i:
                self._fold_simple(i, end)
                i = end
            else:
                i = self._step(i)
        return Folded("".join(self.pieces), self.starts, self.ends)

    def _fold_simple(self, start: int, end: int) -> None:
        """Fold plain ASCII and ASCII whitespace in bulk: lower-case it, each whitespace run one space."""
        segment = self.text[start:end]
        body_start = start + len(segment) - len(segment.lstrip())
        body_end = start + len(segment.rstrip())
        if body_start == end:  # whitespace only
            if self.space_start < 0:
                self.space_start = start
            self.space_end = end
            return
        if body_start > start:
            if self.space_start < 0:
                self.space_start = start
            self.space_end = body_start
        body = self.text[body_start:body_end].lower()
        self._emit_space_before(body[0])
        spaces = int.from_bytes(body.encode("ascii").translate(_IS_SPACE), "little")
        if spaces == 0:
            self.pieces.append(body)
            self.starts.extend(range(body_start, body_end))
            self.ends.extend(range(body_start + 1, body_end + 1))
        else:
            # One byte per character, 1 where kept: every non-space, and a space run's first character
            # (for its start) or last (for its end). The body begins and ends with a non-space.
            size = body_end - body_start
            others = int.from_bytes(b"\x01" * size, "little") ^ spaces
            firsts = (others | (spaces & (others << 8))).to_bytes(size, "little")
            lasts = (others | (spaces & (others >> 8))).to_bytes(size, "little")
            # ASCII whitespace to str.split() is what _IS_SPACE marks: each run becomes one space.
            self.pieces.append(" ".join(body.split()))
            self.starts.extend(compress(range(body_start, body_end), firsts))
            self.ends.extend(compress(range(body_start + 1, body_end + 1), lasts))
        self.last = body[-1]
        if body_end < end:
            self.space_start, self.space_end = body_end, end

    def _step(self, i: int) -> int:
        """Fold the character cluster (or entity) starting at `i`; returns where the next one starts."""
        text = self.text
        if self.kinds[i] == _DROP or text[i] in _DROPPED_CHARS:
            return i + 1
        if i in self.entities:
            j, cluster = self.entities[i]
        else:
            j = i + 1
            while j < len(text) and _continues_cluster(text[j]):
                j += 1
            cluster = " " if self.kinds[i] == _SPACE or text[i] in _SPACE_CHARS else text[i:j]
        cluster = cluster.translate(_TYPOGRAPHY)
        folded = cluster.lower() if cluster.isascii() else unicodedata.normalize("NFKC", cluster).casefold()
        for char in folded:
            if char.isspace():
                if self.space_start < 0:
                    self.space_start = i
                self.space_end = j
            elif not char.isascii() and unicodedata.category(char) == "Cf":
                continue
            else:
                self._emit_space_before(char)
                self.pieces.append(char)
                self.starts.append(i)
                self.ends.append(j)
                self.last = char
        return j

    def _emit_space_before(self, char: str) -> None:
        """Emit the pending whitespace run as one space, unless it is first or touches CJK text."""
        if self.space_start < 0:
            return
        if self.last and not (is_cjk(self.last) or is_cjk(char)):
            self.pieces.append(" ")
            self.starts.append(self.space_start)
            self.ends.append(self.space_end)
        self.space_start = -1


def fold(text: str) -> Folded:
    """Normalise `text` (see `decompose.grounding.align`), keeping the map back to the original offsets."""
    return _Folder(text).run()
