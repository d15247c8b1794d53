"""The list a batch runs over: one source per line, blank lines and `#` comments skipped."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import BinaryIO

from decompose.errors import InputError, SourceNotFound


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
    try:
        data = (stdin or sys.stdin.buffer).read() if path == "-" else Path(path).read_bytes()
    except FileNotFoundError:
        raise SourceNotFound(f"no such source list: {path}; give a file with one source per line, or '-'") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory; give a file with one source per line") from None
    except OSError as error:
        raise InputError(f"cannot read the source list {path} ({error.strerror}); check its permissions") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"{origin} is not UTF-8 text (bad byte at offset {error.start}); save it as UTF-8") from None
    return parse_source_list(text, origin)
