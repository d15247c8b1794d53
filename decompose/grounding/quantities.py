"""The quantities a text states, and when two of them state the same amount.

A quantity is a number written in prose, with or without a multiplier or unit: 2560, 2,560, 4B,
4 billion, 0.6B, 23.5M, 32K, 67.5 TB, 89.36%, 1,400만, 2e-5. Rules, chosen so that a record's own
numbers are checked and nothing else is:

- Digits inside a name are not quantities: a number glued to a Latin letter on its left (Qwen3, L2,
  v3, e5), joined by `-`, `_`, `.` or `/` to a word on its left (text-embedding-3-small, SHA-256,
  UTF-8, gpt-4o, Llama-3.1-8B), followed by a letter that is no unit (4o, 3rd, 3D), or part of a
  dotted version (4.51.0). Sizes listed with slashes are quantities each ("0.6B/4B/8B"). CJK
  characters may touch a number on either side ("정확도89.36%", "40亿").
- Multipliers k/K (1e3), M/m (1e6), B/b (1e9), T/t (1e12) count only glued to the number ("4B", not
  "4 B"); thousand/million/billion/trillion may follow a space or a hyphen ("8-billion-parameter");
  Korean/CJK 백/百 (1e2), 천/千 (1e3), 만/万/萬 (1e4), 억/亿/億 (1e8), 조/兆 (1e12) stack ("천만" =
  1e7). The value is expanded (32K = 32000, unit "").
- Units come in three families that never match each other: counts (unit ""), percentages ("%") and
  byte sizes ("bytes", value in bytes: 67.5 TB = 6.75e13, 1 GiB = 2**30).
- A 4-digit number from 1900 to 2100 without a unit is a year, not a quantity ("June 2025"), unless
  a counted noun follows ("2048 tokens", "2048-dim") or it ends a range ("32 to 2048"); "2,048" with a
  thousands separator is always a quantity.
- A range ("32–2560", "32-2560", "32 to 2560", "from 32 up to 2560") gives both ends; a bare left
  end takes the right end's multiplier and unit ("1–2B" is 1e9 and 2e9, "10–20%" is 10% and 20%).
- Signs are ignored; "224x224" and other digit-letter-digit tokens are not quantities.

Matching: a number written with a multiplier or a byte unit, or after a hedge ("about 90%", "close
to", "nearly", "~", "약"), is taken as rounded, so it matches a value within 2.5 % of it; k/K, M and
the decimal byte units are also read as powers of 1024, so "32K" matches 32,768 and "1M" matches
1,048,576. Plain numbers match when they agree to the precision of the coarser one ("89%" matches
"89.36%", "2500" does not match "2560").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import NamedTuple

from decompose.grounding.cjk import is_cjk

RELATIVE_TOLERANCE = 0.025
COUNT, PERCENT, BYTES = "", "%", "bytes"

_NUMBER = re.compile(r"(?<![\d.,])\d+(?:,\d{3}(?!\d))*(?:\.\d+)?(?:[eE][-+]?\d+(?!\d))?")
_SUFFIX = re.compile(
    r"""
      (?P<bytes>[ ]?(?i:(?P<prefix>[kmgtp])(?P<binary>i)?b|(?P<word_prefix>kilo|mega|giga|tera|peta)?bytes?)
                (?![A-Za-z]))
    | (?P<percent>[ ]?(?:%|(?i:percent|per[ ]cent)(?![A-Za-z])|퍼센트))
    | (?P<word>[ -]?(?i:thousand|million|billion|trillion)(?![A-Za-z]))
    | (?P<letter>[kKmMbBtT](?![A-Za-z0-9]))
    | (?P<cjk>[백百천千만万萬억亿億조兆]+)
    | (?P<times>[x×](?![A-Za-z0-9]))
    """,
    re.VERBOSE,
)
_RANGE_JOIN = re.compile(r"\s*(?:[-–—~]|to|up to|through)\s*", re.IGNORECASE)
_FOLLOWING_WORD = re.compile(r"[ -]?([^\W\d_]+)")
_HEDGE = re.compile(
    r"(?:\b(?:about|around|approximately|approx\.|roughly|nearly|almost|close to)|~|≈|약)\s*$", re.IGNORECASE
)
_QUANTITY_BEFORE_SLASH = re.compile(r"(?<![A-Za-z0-9_.-])\d+(?:\.\d+)?[kKmMbBtT%]?$")

_SCALES = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12, "p": 1e15}
_WORD_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12,
                "kilo": 1e3, "mega": 1e6, "giga": 1e9, "tera": 1e12, "peta": 1e15}
_CJK_SCALES = {"백": 1e2, "百": 1e2, "천": 1e3, "千": 1e3, "만": 1e4, "万": 1e4, "萬": 1e4,
               "억": 1e8, "亿": 1e8, "億": 1e8, "조": 1e12, "兆": 1e12}
_BINARY_POWERS = {"k": 1, "m": 2, "g": 3, "t": 4, "p": 5}
_COUNTED_NOUNS = frozenset(
    "token tokens parameter parameters params dimension dimensions dimensional dim dims layer layers "
    "head heads sample samples example examples sentence sentences document documents doc docs word "
    "words image images pixel pixels px step steps epoch epochs language languages hour hours bit "
    "bits vector vectors character characters char chars row rows pair pairs review reviews query "
    "queries item items entry entries gpu gpus file files".split()
)
_CJK_COUNTERS = ("개", "차원", "토큰", "층", "건", "명", "단어", "문장", "쌍", "个", "维", "层")


@dataclass(frozen=True)
class Quantity:
    """A number as a text states it: `raw` as written, `value` expanded, `unit` its family."""

    raw: str
    value: float
    unit: str
    approximate: bool = field(default=False, compare=False)  # written with a multiplier: ±2.5 %
    rounding: float = field(default=0.0, compare=False)  # half the place value of its last digit
    binary_value: float | None = field(default=None, compare=False)  # K/M read as 1024, 1024**2

    def matches(self, other: Quantity) -> bool:
        """Whether `other` could state the same amount (see the module docstring for the rule)."""
        if self.unit != other.unit:
            return False
        if self.approximate or other.approximate:
            return any(
                abs(mine - theirs) <= RELATIVE_TOLERANCE * max(abs(mine), abs(theirs))
                for mine in self._readings()
                for theirs in other._readings()
            )
        slack = max(self.rounding, other.rounding) + 1e-9 * max(abs(self.value), abs(other.value))
        return abs(self.value - other.value) <= slack

    def _readings(self) -> tuple[float, ...]:
        return (self.value,) if self.binary_value is None else (self.value, self.binary_value)


class _Suffix(NamedTuple):
    """What follows a number and changes its meaning: multiplier, unit, binary reading."""

    end: int
    scale: float
    unit: str
    approximate: bool
    binary_scale: float | None


class _Reading(NamedTuple):
    number: float
    rounding: float
    suffix: _Suffix | None
    start: int
    end: int


def quantities(text: str) -> list[Quantity]:
    """Every quantity `text` states, in order (NFKC-normalised first, so `raw` is in that form)."""
    text = unicodedata.normalize("NFKC", text)
    readings: list[_Reading] = []
    for match in _NUMBER.finditer(text):
        ends_range = bool(readings) and bool(_RANGE_JOIN.fullmatch(text, readings[-1].end, match.start()))
        reading = _read(text, match, ends_range)
        if reading is None:
            continue
        if ends_range and readings[-1].suffix is None and reading.suffix is not None:
            readings[-1] = readings[-1]._replace(suffix=reading.suffix)  # "1–2B": the 1 is 1B too
        readings.append(reading)
    return [_quantity(text, reading) for reading in readings]


def _read(text: str, match: re.Match[str], ends_range: bool) -> _Reading | None:
    """The number at `match` with its suffix, or None when it is part of a name, version or year."""
    start, end = match.span()
    if not ends_range and _inside_name(text, start):
        return None
    if re.match(r"\.\d", text[end : end + 2]):
        return None  # a dotted version such as 4.51.0
    suffix = _suffix(text, end)
    following = text[end : end + 1]
    if suffix is None and following.isalpha() and not is_cjk(following):
        return None
    literal = match.group()
    number = float(literal.replace(",", ""))
    is_year = re.fullmatch(r"\d{4}", literal) is not None and 1900 <= number <= 2100
    if is_year and suffix is None and not ends_range and not _counted_noun_follows(text, end):
        return None
    mantissa, _, exponent = literal.lower().partition("e")
    rounding = 0.5 * 10 ** (int(exponent or 0) - len(mantissa.partition(".")[2]))
    return _Reading(number, rounding, suffix, start, end if suffix is None else suffix.end)


def _inside_name(text: str, start: int) -> bool:
    """Whether the digits at `start` continue a name: glued to a Latin letter or joined to a word."""
    if start == 0:
        return False
    before = text[start - 1]
    if before.isalpha() and not is_cjk(before):
        return True
    if before == "/" and _QUANTITY_BEFORE_SLASH.search(text, 0, start - 1):
        return False  # a list of sizes such as 0.6B/4B/8B
    return before in "-_./" and start >= 2 and text[start - 2].isalnum()


def _suffix(text: str, end: int) -> _Suffix | None:
    """The multiplier or unit written right after the number ending at `end`, if any."""
    match = _SUFFIX.match(text, end)
    if match is None:
        return None
    if match.group("bytes"):
        prefix = (match.group("prefix") or match.group("word_prefix") or "").lower()
        if not prefix:
            return _Suffix(match.end(), 1.0, BYTES, False, None)
        power = _BINARY_POWERS[prefix[0]]
        if match.group("binary"):
            return _Suffix(match.end(), 1024.0**power, BYTES, True, None)
        scale = _WORD_SCALES.get(prefix) or _SCALES[prefix]
        return _Suffix(match.end(), scale, BYTES, True, 1024.0**power)
    if match.group("percent"):
        return _Suffix(match.end(), 1.0, PERCENT, False, None)
    if match.group("word"):
        return _Suffix(match.end(), _WORD_SCALES[match.group("word").strip(" -").lower()], COUNT, True, None)
    if match.group("letter"):
        letter = match.group("letter").lower()
        binary = 1024.0 ** _BINARY_POWERS[letter] if letter in "km" else None
        return _Suffix(match.end(), _SCALES[letter], COUNT, True, binary)
    if match.group("cjk"):
        scale = 1.0
        for char in match.group("cjk"):
            scale *= _CJK_SCALES[char]
        return _Suffix(match.end(), scale, COUNT, True, None)
    return _Suffix(match.end(), 1.0, COUNT, False, None)  # "8x", "2×"


def _counted_noun_follows(text: str, end: int) -> bool:
    """Whether a word that counts things follows, which makes a year-like number a quantity."""
    match = _FOLLOWING_WORD.match(text, end)
    if match is None:
        return False
    word = match.group(1)
    return word.lower() in _COUNTED_NOUNS or word.startswith(_CJK_COUNTERS)


def _quantity(text: str, reading: _Reading) -> Quantity:
    suffix = reading.suffix
    raw = text[reading.start : reading.end].strip()
    hedged = _HEDGE.search(text, 0, reading.start) is not None
    if suffix is None:
        return Quantity(raw, reading.number, COUNT, approximate=hedged, rounding=reading.rounding)
    binary = None if suffix.binary_scale is None else reading.number * suffix.binary_scale
    return Quantity(
        raw,
        reading.number * suffix.scale,
        suffix.unit,
        approximate=suffix.approximate or hedged,
        rounding=reading.rounding * suffix.scale,
        binary_value=binary,
    )
