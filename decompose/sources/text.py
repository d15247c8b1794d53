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


def check_size(size: int, origin: str) -> None:
    """Refuse anything over MAX_CARD_BYTES: no card is that long, and an LLM could not read it whole."""
    if size > MAX_CARD_BYTES:
        raise InputError(f"{origin} is larger than the 2 MB a card may have; give the card itself, not a data file")


def decode_card(data: bytes, origin: str) -> str:
    """Decode card bytes as UTF-8 (dropping a BOM), refusing empty, binary and mis-encoded input."""
    check_size(len(data), origin)
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
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise InputError(
            f"{origin}: the front matter must be a YAML mapping of key: value lines, not a {type(loaded).__name__}"
        )
    return json_safe(loaded)


def json_safe(value: Any) -> Any:
    """Make YAML values JSON-safe: dates as ISO strings, keys as strings, other odd types as str."""
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(item) for item in value]
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
