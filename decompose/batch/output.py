"""Where batch results go: JSON Lines written whole, and a journal that lets a rerun resume.

`--out results.jsonl` holds one Decomposition per line, in the order cards finish. Beside it,
`results.jsonl.journal` holds, line for line, the source each result came from and its cache key:
the Decomposition contract has no source field, and artifact ids do not identify a source (two
files called README.md in different folders share one).

Every line is a single `write` of the whole line, result first, then journal; nothing is buffered
in the process. A SIGKILL can therefore leave at most a cut-off last line in either file, or a
result whose journal line never came. On open both files are cut back to the longest prefix on
which they agree (whole lines, same cache keys), so every kept result has exactly one line and the
rest is done again -- from the cache, as cards are cached before their line is written. Both files
are fsynced when the run ends or is interrupted, not per line: a killed process loses nothing the
kernel already holds, and an OS crash loses at most the last lines, which the rerun redoes.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
from pathlib import Path
from typing import Protocol, TextIO

from decompose.errors import DecomposeError, InputError
from decompose.records import Decomposition

JOURNAL_SUFFIX = ".journal"


class ResultSink(Protocol):
    """What a batch writes finished cards to."""

    finished: frozenset[str]
    """Sources an earlier run already wrote (and which this run skips)."""

    def write(self, source: str, decomposition: Decomposition) -> None: ...

    def close(self) -> None: ...


class StreamSink:
    """JSON Lines to a stream (standard output): nothing to resume from."""

    finished: frozenset[str] = frozenset()

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, source: str, decomposition: Decomposition) -> None:
        try:
            self._stream.write(decomposition.model_dump_json() + "\n")
            self._stream.flush()
        except BrokenPipeError:
            # The reader quit (`| head`): stop writing to it, and stop Python's exit-time flush too.
            os.dup2(os.open(os.devnull, os.O_WRONLY), self._stream.fileno())
            raise DecomposeError(
                "standard output was closed before the batch finished; use --out FILE to keep every result"
            ) from None

    def close(self) -> None:
        with contextlib.suppress(BrokenPipeError):
            self._stream.flush()


class JsonlFile:
    """`--out FILE` and its journal, opened for resuming; one writer at a time (an flock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.journal_path = path.with_name(path.name + JOURNAL_SUFFIX)
        if _size(path) > 0 and not self.journal_path.exists():
            raise InputError(
                f"{path} already holds data but has no {self.journal_path.name} beside it, so it was not written "
                "by decompose batch (or its journal was deleted); remove it or choose another --out"
            )
        self._journal = _open_append(self.journal_path)
        self._results = -1
        try:
            _lock(self._journal, path)
            self._results = _open_append(path)
            results_end, journal_end, sources = _agreeing_prefix(path, self.journal_path)
            self.dropped_lines = _lines_after(path, results_end)
            os.ftruncate(self._results, results_end)
            os.ftruncate(self._journal, journal_end)
        except BaseException:
            self.close()
            raise
        self.finished = frozenset(sources)

    def write(self, source: str, decomposition: Decomposition) -> None:
        result = decomposition.model_dump_json() + "\n"
        entry = json.dumps({"source": source, "cache_key": decomposition.provenance.cache_key}, ensure_ascii=False)
        _append_whole(self._results, result.encode("utf-8"), self.path)
        _append_whole(self._journal, (entry + "\n").encode("utf-8"), self.journal_path)

    def close(self) -> None:
        """fsync and close both files (releasing the lock); safe to call twice."""
        for name in ("_results", "_journal"):
            fd = getattr(self, name)
            if fd >= 0:
                setattr(self, name, -1)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)

    def __enter__(self) -> JsonlFile:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _open_append(path: Path) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o666)
    except FileNotFoundError:
        raise InputError(f"cannot write {path}: directory {path.parent} does not exist; create it first") from None
    except OSError as error:
        raise InputError(f"cannot write {path} ({error.strerror}); choose another --out") from None


def _lock(fd: int, path: Path) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise InputError(
            f"another decompose batch is writing {path}; wait for it to finish or choose another --out"
        ) from None


def _agreeing_prefix(results_path: Path, journal_path: Path) -> tuple[int, int, list[str]]:
    """Byte lengths of the longest prefixes of both files that agree line for line, and its sources."""
    results_end = journal_end = 0
    sources: list[str] = []
    with results_path.open("rb") as results, journal_path.open("rb") as journal:
        for result_line, journal_line in zip(results, journal, strict=False):
            if not (result_line.endswith(b"\n") and journal_line.endswith(b"\n")):
                break
            entry = _journal_entry(journal_line)
            if entry is None or _cache_key(result_line) != entry[1]:
                break
            results_end += len(result_line)
            journal_end += len(journal_line)
            sources.append(entry[0])
    return results_end, journal_end, sources


def _journal_entry(line: bytes) -> tuple[str, str] | None:
    try:
        entry = json.loads(line)
        return str(entry["source"]), str(entry["cache_key"])
    except (ValueError, KeyError, TypeError):
        return None


def _cache_key(line: bytes) -> str | None:
    try:
        return str(json.loads(line)["provenance"]["cache_key"])
    except (ValueError, KeyError, TypeError):
        return None


def _lines_after(path: Path, offset: int) -> int:
    """How many lines (a cut-off last one included) lie beyond `offset`: what resuming drops."""
    with path.open("rb") as stream:
        stream.seek(offset)
        return sum(1 for _ in stream)


def _append_whole(fd: int, data: bytes, path: Path) -> None:
    """One write of one whole line; a short write (disk full) is taken back so no half line stays."""
    try:
        written = os.write(fd, data)
        if written < len(data):
            os.ftruncate(fd, os.fstat(fd).st_size - written)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    except OSError as error:
        raise DecomposeError(
            f"cannot write to {path} ({error.strerror or error}); free space or choose another --out, "
            "then rerun the same command to resume"
        ) from None
