"""The list a batch runs over: one source per line, blank lines and `#` comments skipped."""

from __future__ import annotations

import sys
from typing import BinaryIO

from decompose.errors import InputError
from decompose.files import read_text_input


def parse_source_list(text: str, origin: str) -> list[str]:
    """Sources in list order; a repeated source is kept once, at its first place.

    `-` (standard input) cannot be a batch source: standard input is the list itself, or a terminal.
    """
    sources: dict[str, None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        source = line.strip()
        if not source or source.startswith("#"):
            continue
        if source == "-":
            raise InputError(
                f"{origin} line {number}: '-' (standard input) cannot be a batch source; save that card to a file"
            )
        sources.setdefault(source)
    if not sources:
        raise InputError(f"{origin} lists no sources; put one source per line (blank lines and # comments are skipped)")
    return list(sources)


def read_source_list(path: str, *, stdin: BinaryIO | None = None) -> list[str]:
    """Read the list from a file, or from standard input when `path` is `-`."""
    origin = "standard input" if path == "-" else path
    hint = "give a file with one source per line, or '-'"
    text = read_text_input(path, what="source list", hint=hint, stdin=stdin or sys.stdin.buffer)
    return parse_source_list(text, origin)
