"""Atomic file output: a reader sees the old file or the whole new one, never half of it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from decompose.errors import InputError, SourceNotFound


def atomic_write_text(path: Path, text: str) -> None:
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"cannot write {path}: directory {directory} does not exist; create it first")
    try:
        handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as error:
        raise _unwritable(path, error) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException as error:
        Path(temp_name).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise _unwritable(path, error) from None
        raise


def _unwritable(path: Path, error: OSError) -> InputError:
    """A target that is a directory, read-only or on a full disk: say so in one line."""
    return InputError(f"cannot write {path} ({error.strerror or error}); choose another output path")


def read_text_input(path: str, *, what: str, hint: str, stdin: BinaryIO | None) -> str:
    """A UTF-8 text file the user named, or standard input for `-`; each failure is one line that
    names the `what` and ends with the `hint` (what to give instead)."""
    origin = "standard input" if path == "-" else path
    try:
        if path == "-":
            if stdin is None:
                raise InputError(f"no standard input to read the {what} from; {hint}")
            data = stdin.read()
        else:
            data = Path(path).read_bytes()
    except FileNotFoundError:
        raise SourceNotFound(f"no such {what}: {path}; {hint}") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory; {hint}") from None
    except OSError as error:
        raise InputError(f"cannot read the {what} {path} ({error.strerror or error}); check its permissions") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"{origin} is not UTF-8 text (bad byte at offset {error.start}); {hint}") from None
