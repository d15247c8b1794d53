"""Bytes → card text, front matter, sections and digest: the parts every source form shares.

The text kept is exactly what was fetched (only a UTF-8 BOM is removed, line endings are kept), because
evidence offsets computed later index into it. Front matter follows the Hugging Face convention: a
`---` line at the very start, YAML, and a closing `---` line; without the closing line there is no
front matter (as on the hub) and the whole text is body.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from typing import Any

import yaml

from decompose.errors import InputError
from decompose.records import ArtifactKind, Section

MAX_CARD_BYTES = 2 * 1024 * 1024
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

DATASET_KEYS = frozenset(
    {"task_categories", "task_ids", "size_categories", "pretty_name", "dataset_info", "configs",
     "annotations_creators", "language_creators", "source_datasets", "multilinguality"}
)
MODEL_KEYS = frozenset({"pipeline_tag", "library_name", "base_model", "model-index", "model_name"})

HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*\r?$")
CLOSING_HASHES = re.compile(r"(?:^|[ \t]+)#+$")
FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*?)\r?$")
DELIMITER = re.compile(r"---[ \t]*\r?\n?")
# Far beyond any real card's front matter (the hub's model-index tables run to a few thousand
# values), far below what would stall a run; see `json_safe`.
MAX_FRONT_MATTER_VALUES = 100_000
MAX_FRONT_MATTER_DEPTH = 64


def check_size(size: int, origin: str, limit: int = MAX_CARD_BYTES) -> None:
    """Refuse anything over `limit` bytes: no card is that long, and an LLM could not read it whole."""
    if size > limit:
        raise InputError(
            f"{origin} is larger than the {size_text(limit)} a card may have; "
            "give the card itself, not a data file (or raise --max-bytes)"
        )


def size_text(size: int) -> str:
    """`2 MB`, `512 KB`, `6071 bytes`: a limit as a person would say it, and exactly."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"


def decode_card(data: bytes, origin: str, limit: int = MAX_CARD_BYTES) -> str:
    """Decode card bytes as UTF-8 (dropping a BOM), refusing empty, binary and mis-encoded input."""
    check_size(len(data), origin, limit)
    if data.startswith(UTF16_BOMS):
        raise InputError(f"{origin} is UTF-16 encoded; save it as UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(
            f"{origin} is binary (NUL byte at offset {nul}), not a text card; give a Markdown or text file"
        )
    body = data.removeprefix(UTF8_BOM)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        offset = error.start + len(data) - len(body)
        raise InputError(f"{origin} is not valid UTF-8 (byte offset {offset}); save it as UTF-8") from None
    return require_text(text, origin)


def require_text(text: str, origin: str) -> str:
    """Refuse a card with nothing to read: an LLM would only invent capabilities for it."""
    if not text.strip():
        raise InputError(f"{origin} is empty; give a card with text in it")
    return text


def parse_front_matter(text: str, origin: str) -> tuple[dict[str, Any], int]:
    """Return the front matter as a JSON-safe mapping and the offset where the body starts."""
    opening = DELIMITER.match(text)
    if opening is None or not opening.group().endswith("\n"):
        return {}, 0
    position = opening.end()
    while position < len(text):
        line_end = text.find("\n", position)
        line_end = len(text) if line_end < 0 else line_end + 1
        if DELIMITER.fullmatch(text, position, line_end):
            return _load_yaml(text[opening.end() : position], origin), line_end
        position = line_end
    return {}, 0


def _load_yaml(source: str, origin: str) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(source)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        problem = " ".join(str(getattr(error, "problem", None) or error).split())
        raise InputError(
            f"{origin}: the front matter is not valid YAML{where} ({problem}); fix the YAML between the --- lines"
        ) from None
    except RecursionError:
        raise _too_deep(origin) from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise InputError(
            f"{origin}: the front matter must be a YAML mapping of key: value lines, not a {type(loaded).__name__}"
        )
    return json_safe(loaded, origin)


def _too_deep(origin: str) -> InputError:
    return InputError(
        f"{origin}: the front matter nests deeper than {MAX_FRONT_MATTER_DEPTH} levels "
        "(or refers to itself through an alias); flatten it"
    )


def json_safe(value: Any, origin: str = "the card") -> Any:
    """Make YAML values JSON-safe: dates as ISO strings, keys as strings, other odd types as str.

    `yaml.safe_load` keeps an alias as a second reference to one object, but JSON has no
    references: converting copies each one, so a few lines of nested aliases ("billion laughs")
    would expand into billions of values. The copy is therefore bounded in size and depth.
    """
    return _JsonSafe(origin).convert(value, 0)


class _JsonSafe:
    """One conversion: the count of values copied runs across the whole front matter."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.values = 0

    def convert(self, value: Any, depth: int) -> Any:
        self.values += 1
        if self.values > MAX_FRONT_MATTER_VALUES:
            raise InputError(
                f"{self.origin}: the front matter expands to more than {MAX_FRONT_MATTER_VALUES} values "
                "(YAML aliases repeating each other?); remove the anchors and aliases"
            )
        if depth > MAX_FRONT_MATTER_DEPTH:
            raise _too_deep(self.origin)
        if isinstance(value, dict):
            return {str(key): self.convert(item, depth + 1) for key, item in value.items()}
        if isinstance(value, (list, tuple, set, frozenset)):
            return [self.convert(item, depth + 1) for item in value]
        if isinstance(value, (dt.date, dt.time)):
            return value.isoformat()
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        return str(value)


def find_sections(text: str, body_start: int = 0) -> tuple[Section, ...]:
    """ATX headings of the body outside code fences, each running to the next heading of any level.

    The sections partition the body from its first heading on, so a chunker can take them whole
    without repeating text; `level` lets a caller rebuild the outline.
    """
    headings: list[tuple[str, int, int]] = []
    fence: str | None = None
    position = body_start
    while position < len(text):
        line_end = text.find("\n", position)
        line_end = len(text) if line_end < 0 else line_end + 1
        line = text[position:line_end].rstrip("\n")
        fence_match = FENCE.match(line)
        if fence is None and fence_match and not (fence_match.group(1)[0] == "`" and "`" in fence_match.group(2)):
            fence = fence_match.group(1)
        elif fence is not None:
            if fence_match and fence_match.group(1).startswith(fence) and not fence_match.group(2).strip():
                fence = None
        elif (heading := HEADING.match(line)) is not None:
            title = CLOSING_HASHES.sub("", heading.group(2) or "").strip()
            if title:
                headings.append((title, len(heading.group(1)), position))
        position = line_end
    ends = [start for _, _, start in headings[1:]] + [len(text)]
    return tuple(Section(title, level, start, end) for (title, level, start), end in zip(headings, ends))


def first_h1(sections: tuple[Section, ...]) -> str | None:
    return next((section.title for section in sections if section.level == 1), None)


def infer_kind(metadata: dict[str, Any]) -> ArtifactKind:
    """Guess model vs dataset from front-matter keys typical of each card type (the hub's own templates)."""
    dataset_hits = len(DATASET_KEYS & metadata.keys())
    model_hits = len(MODEL_KEYS & metadata.keys())
    if dataset_hits > model_hits:
        return "dataset"
    if model_hits > dataset_hits:
        return "model"
    return "other"


def digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def one_line(error: BaseException, limit: int = 200) -> str:
    """An exception's text on one line and bounded, for the cause part of a message."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
