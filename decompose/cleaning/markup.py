"""The cleaning steps: each finds chrome in the current text and says what to delete or replace.

Steps only delete markup or swap an HTML tag for the line break or table pipe it stood for; the
words of the card are never rewritten, so a quote copied from the cleaned text is still, word for
word, in the card as fetched. Code is never touched (see `code.py`), except BibTeX blocks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from decompose.cleaning.code import CodeSpans
from decompose.cleaning.offsets import Edit

HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
HIDDEN_ELEMENT = re.compile(
    r"<(script|style|svg|picture|video|audio|iframe|object|noscript)\b[^>]*>.*?</\1\s*>", re.DOTALL | re.IGNORECASE
)
_IMAGE = r"!\[[^\]\n]*\](?:\([^)\n]*\)|\[[^\]\n]*\])"
LINKED_IMAGE = re.compile(rf"\[\s*{_IMAGE}\s*\](?:\([^)\n]*\)|\[[^\]\n]*\])")
IMAGE = re.compile(_IMAGE)
VOID_MEDIA_TAG = re.compile(r"<(?:img|source|input|embed)\b[^<>]*>", re.IGNORECASE)
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]\n]+\]:[ \t]*\S[^\n]*\n?", re.MULTILINE)
# LINK and INNER_SPACE_RUN look behind after their first character, not before it, so the regex engine
# skips ahead to a "[" or a space instead of trying the lookbehind at every position of the text.
LINK = re.compile(r"\[(?<![!\]\\]\[)([^\[\]\n]+)\](\((?:[^()\s]|\([^()\s]*\))*(?:[ \t]+\"[^\"\n]*\")?\)|\[[^\]\n]*\])")
HTML_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*?/?>")
SPACE_ENTITY = re.compile(r"&(?:nbsp|ensp|emsp|thinsp|#160|#xa0);", re.IGNORECASE)
TABLE_DELIMITER_ROW = re.compile(r"^[ \t]*\|?(?:[ \t]*:?-+:?[ \t]*\|)+(?:[ \t]*:?-+:?[ \t]*)?$", re.MULTILINE)
SEPARATOR_ONLY_LINE = re.compile(r"^[ \t|·•/]*[|·•/][ \t|·•/]*\n", re.MULTILINE)
BIBTEX_ENTRY = re.compile(r"^@[a-zA-Z]+[ \t]*\{", re.MULTILINE)
BIBTEX_TITLE = re.compile(r"^[ \t]*title[ \t]*=", re.MULTILINE | re.IGNORECASE)
BIBTEX_INFO = frozenset({"bibtex", "bib", "biblatex"})
LINE_SPACE = " \t\r\f\v"
# The last space of a line: runs are found from their end, so spaces inside lines cost one test each.
LAST_SPACE_OF_LINE = re.compile(r"[ \t\r\f\v](?=\n)")
INNER_SPACE_RUN = re.compile(r"[ \t](?<=\S[ \t])[ \t]+(?=\S)")
BLANK_LINE_RUN = re.compile(r"\n{3,}")
REPEATED_MIN_CHARS = 40
PLACEHOLDER_LINE = re.compile(
    r"^[ \t]*(?:[-*+][ \t]+)?(?:\*\*[^*\n]*\*\*:?[ \t]*)?\[More Information Needed\][ \t]*(?:\n|\Z)",
    re.MULTILINE | re.IGNORECASE,
)
HEADING_LINE = re.compile(r"^ {0,3}(#{1,6})[ \t]+\S[^\n]*(?:\n|\Z)", re.MULTILINE)

BLOCK_TAGS = frozenset(
    "address article aside blockquote br caption center dd details div dl dt figcaption figure footer h1 h2 h3 "
    "h4 h5 h6 header hr main nav ol p pre section summary table tbody tfoot thead ul".split()
)
INLINE_TAGS = frozenset(
    "a abbr b big cite code del em font i ins kbd mark s small span strike strong sub sup tt u var".split()
)
CELL_TAGS = frozenset({"td", "th"})
ROW_START = "\n"
FRONT_MATTER_DROPPED_KEYS = frozenset(
    {"model-index", "widget", "dataset_info", "configs", "extra_gated_fields", "extra_gated_button_content",
     "extra_gated_heading", "thumbnail"}
)
FRONT_MATTER_MAX_ENTRY_LINES = 40
FRONT_MATTER_KEY = re.compile(r"^[^\s#\-][^:\n]*:", re.MULTILINE)


def front_matter(text: str, body_start: int) -> list[Edit]:
    """Drop the machine-readable bulk of the YAML front matter (evaluation results, widgets, schemas).

    An entry goes when its key is one the hub reads rather than a person (`model-index`, `widget`,
    `dataset_info` ...) or it runs over 40 lines; short human-written values (license, base model,
    terms of use) stay, because a record may cite them.
    """
    if body_start == 0:
        return []
    opening_end = text.find("\n") + 1
    closing_start = text.rfind("---", 0, body_start)
    keys = [match.start() for match in FRONT_MATTER_KEY.finditer(text, opening_end, closing_start)]
    edits = []
    for start, end in zip(keys, [*keys[1:], closing_start]):
        key = text[start : text.index(":", start)].strip().strip("'\"")
        if key in FRONT_MATTER_DROPPED_KEYS or text.count("\n", start, end) > FRONT_MATTER_MAX_ENTRY_LINES:
            edits.append(Edit(start, end))
    return edits


def bibtex(text: str, code: CodeSpans) -> list[Edit]:
    """Reduce every BibTeX entry, fenced or not, to its `title = {...}` lines.

    The paper's title can back a claim ("the pre-training corpus behind StarCoder2"); author lists,
    venues and identifiers cannot, and they are the bulk of a citation.
    """
    edits: list[Edit] = []
    for block in code.blocks:
        language = block.info.split()[0].lower() if block.info.split() else ""
        content = text[block.content_start : block.content_end].lstrip()
        if language in BIBTEX_INFO or BIBTEX_ENTRY.match(content):
            edits.extend(_keep_only_titles(text, block.start, block.end))
    for match in BIBTEX_ENTRY.finditer(text):
        if not code.overlaps(match.start(), match.end()):
            end = _entry_end(text, match.end() - 1)
            edits.extend(_keep_only_titles(text, match.start(), end))
    return edits


def hidden_content(text: str, code: CodeSpans) -> list[Edit]:
    """HTML comments and elements a reader never sees as text (scripts, styles, SVG, media)."""
    found = [*HTML_COMMENT.finditer(text), *HIDDEN_ELEMENT.finditer(text)]
    return [Edit(*match.span()) for match in found if not code.overlaps(*match.span())]


def images(text: str, code: CodeSpans) -> list[Edit]:
    """Images, badges (images inside links), `<img>` tags and link reference definitions."""
    found = [*LINKED_IMAGE.finditer(text), *IMAGE.finditer(text), *VOID_MEDIA_TAG.finditer(text),
             *REFERENCE_DEFINITION.finditer(text)]
    return [Edit(*match.span()) for match in found if not code.overlaps(*match.span())]


def links(text: str, code: CodeSpans) -> list[Edit]:
    """`[text](url)` and `[text][ref]` keep their text; the brackets and the target go."""
    edits = []
    for match in LINK.finditer(text):
        if not code.overlaps(*match.span()):
            edits.append(Edit(match.start(), match.start() + 1))
            edits.append(Edit(match.end(1), match.end()))
    return edits


def html_tags(text: str, code: CodeSpans) -> list[Edit]:
    """Known HTML tags go, their content stays; a block tag leaves a line break, a cell a pipe."""
    edits = [Edit(*match.span(), " ") for match in SPACE_ENTITY.finditer(text) if not code.overlaps(*match.span())]
    for match in HTML_TAG.finditer(text):
        if code.overlaps(*match.span()):
            continue
        replacement = _tag_replacement(match.group(2).lower(), closing=bool(match.group(1)))
        if replacement == ROW_START and (match.start() == 0 or text[match.start() - 1] == "\n"):
            replacement = ""  # a row already on its own line: a line break here would split the table
        if replacement is not None:
            edits.append(Edit(*match.span(), replacement))
    return edits


def table_delimiters(text: str, code: CodeSpans) -> list[Edit]:
    """`|:-----------:|` becomes `|:---:|`: wide tables pad their delimiter rows with dashes."""
    edits = []
    for row in TABLE_DELIMITER_ROW.finditer(text):
        if code.overlaps(*row.span()):
            continue
        for run in re.finditer(r"-{4,}|[ \t]+", row.group()):
            cut = 3 if run.group().startswith("-") else 0
            edits.append(Edit(row.start() + run.start() + cut, row.start() + run.end()))
    return edits


def separator_lines(text: str, code: CodeSpans) -> list[Edit]:
    """Lines left holding only the pipes or dots that stood between badges or header links."""
    return [Edit(*match.span()) for match in SEPARATOR_ONLY_LINE.finditer(text) if not code.overlaps(*match.span())]


def placeholders(text: str, code: CodeSpans) -> list[Edit]:
    """Template lines never filled in: "[More Information Needed]", alone or after a bold label."""
    return [Edit(*match.span()) for match in PLACEHOLDER_LINE.finditer(text) if not code.overlaps(*match.span())]


def empty_sections(text: str, code: CodeSpans) -> list[Edit]:
    """A heading with nothing under it before the next heading of its level or above (a template
    section whose placeholder went, a citation heading whose BibTeX went)."""
    headings = [match for match in HEADING_LINE.finditer(text) if not code.overlaps(*match.span())]
    edits = []
    for index, heading in enumerate(headings):
        following = headings[index + 1] if index + 1 < len(headings) else None
        body_end = following.start() if following else len(text)
        if text[heading.end() : body_end].strip():
            continue
        if following is None or len(following.group(1)) <= len(heading.group(1)):
            edits.append(Edit(heading.start(), body_end))
    return edits


def repeated_paragraphs(text: str, code: CodeSpans, body_start: int) -> list[Edit]:
    """A paragraph of 40+ characters said again word for word (a disclaimer, a link bar) is kept once."""
    seen: set[str] = set()
    edits = []
    for start, end in _paragraphs(text, body_start):
        if code.overlaps(start, end):
            continue
        key = " ".join(text[start:end].split()).casefold()
        if len(key) < REPEATED_MIN_CHARS:
            continue
        if key in seen:
            edits.append(Edit(start, end))
        seen.add(key)
    return edits


def trailing_space(text: str, code: CodeSpans) -> list[Edit]:
    """Spaces at line ends, and runs of spaces inside a line (table padding, HTML indentation left over)."""
    edits = [Edit(start, end) for start, end in trailing_space_runs(text) if not code.overlaps(start, end)]
    for match in INNER_SPACE_RUN.finditer(text):
        if not code.overlaps(*match.span()):
            edits.append(Edit(match.start() + 1, match.end()))
    return edits


def blank_lines(text: str, code: CodeSpans) -> list[Edit]:
    """At most one blank line in a row, none at the start of the text, one line break at its end."""
    edits = [
        Edit(match.start() + 2, match.end()) for match in BLANK_LINE_RUN.finditer(text)
        if not code.overlaps(match.start() + 2, match.end())
    ]
    leading = len(text) - len(text.lstrip("\n"))
    if leading:
        edits.append(Edit(0, leading))
    trailing = len(text) - len(text.rstrip("\n"))
    if trailing > 1:
        edits.append(Edit(len(text) - trailing + 1, len(text)))
    return edits


def _tag_replacement(name: str, *, closing: bool) -> str | None:
    if name in CELL_TAGS:
        return " " if closing else "| "
    if name == "tr":
        return " |" if closing else ROW_START
    if name == "li":
        return "" if closing else "\n- "
    if name in BLOCK_TAGS:
        return "\n"
    if name in INLINE_TAGS:
        return ""
    return None


def _keep_only_titles(text: str, start: int, end: int) -> Iterator[Edit]:
    """Delete `text[start:end]` except its BibTeX `title = ...` lines."""
    cursor = start
    for title in BIBTEX_TITLE.finditer(text, start, end):
        if title.start() < cursor:
            continue
        line_end = _value_end(text, title.end(), end)
        yield Edit(cursor, title.start())
        cursor = line_end
    yield Edit(cursor, end)


def _value_end(text: str, position: int, limit: int) -> int:
    """The end of the line where the braces opened at or after `position` are balanced again."""
    depth = 0
    index = position
    while index < limit:
        char = text[index]
        depth += (char == "{") - (char == "}")
        if char == "\n" and depth <= 0:
            return index + 1
        index += 1
    return limit


def _entry_end(text: str, brace: int) -> int:
    """After the line holding the `}` that closes the BibTeX entry opened at `brace`."""
    depth = 0
    for index in range(brace, len(text)):
        depth += (text[index] == "{") - (text[index] == "}")
        if depth == 0:
            line_end = text.find("\n", index)
            return len(text) if line_end < 0 else line_end + 1
    return len(text)


def _paragraphs(text: str, body_start: int) -> Iterator[tuple[int, int]]:
    """Runs of non-blank lines of the body, each with the line break that ends it."""
    for match in re.finditer(r"(?:^[^\n]*\S[^\n]*(?:\n|\Z))+", text[body_start:], re.MULTILINE):
        yield body_start + match.start(), body_start + match.end()


def trailing_space_runs(text: str) -> Iterator[tuple[int, int]]:
    """Spans of the space runs that end a line or the text."""
    line_ends = [match.end() for match in LAST_SPACE_OF_LINE.finditer(text)]
    if text and text[-1] in LINE_SPACE:
        line_ends.append(len(text))
    for end in line_ends:
        start = end - 1
        while start > 0 and text[start - 1] in LINE_SPACE:
            start -= 1
        yield start, end
