"""The results cache: finished Decompositions in SQLite, keyed by everything that changes an answer.

Concurrency: the database runs in WAL mode and every write is one short `BEGIN IMMEDIATE`
transaction, so several processes may share one file (each opens its own `Store`). A `Store` owns one
connection and serialises its use with a lock, so threads may share a `Store` too. Nothing slow (an
LLM call) ever runs inside a transaction: callers `get`, do their work, then `put`.

Every row is checked against the JSON Schema and the pydantic model when written and when read; a row
that fails on read is deleted and reported as a miss. Bodies are JSON; nothing is pickled.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType

from pydantic import ValidationError

from decompose.errors import CacheError, InputError
from decompose.records import Decomposition
from decompose.schema import SchemaViolation, validate_decomposition
from decompose.store.database import connect, size_on_disk
from decompose.store.keys import CacheKey


_log = logging.getLogger("decompose")
_HEX_PREFIX = re.compile(r"^[0-9a-f]{4,64}$")
_CORRUPT_ERRORS = frozenset({"SQLITE_NOTADB", "SQLITE_CORRUPT"})


@dataclass(frozen=True)
class CacheEntry:
    """One cached result as listed by `decompose cache ls` (the body is not loaded)."""

    key: str
    artifact_id: str | None
    created_at: str
    capabilities: int
    grounded: int
    prompt_tokens: int
    completion_tokens: int
    requests: int


@dataclass(frozen=True)
class ModelUsage:
    """What the rows answered by one model at one endpoint spent (tokens are priced per model)."""

    endpoint: str
    model: str
    rows: int
    requests: int
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class CacheStats:
    """What the cache holds, as `decompose cache stats` shows it; `cards` counts distinct card texts."""

    rows: int
    cards: int
    capabilities: int
    grounded: int
    requests: int
    prompt_tokens: int
    completion_tokens: int
    size_bytes: int
    by_model: tuple[ModelUsage, ...]


class Store:
    """A SQLite results cache at `path`; see the module docstring for the concurrency rules."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn = self._open()

    # -- public API ------------------------------------------------------------------------

    def get(self, key: CacheKey) -> Decomposition | None:
        """The cached result for `key`, or None on a miss (including a row that failed validation)."""
        with self._guarded("read"):
            row = self._conn.execute("SELECT body FROM decompositions WHERE key = ?", (key.digest,)).fetchone()
        return None if row is None else self._checked(key.digest, row[0])

    def put(self, key: CacheKey, decomposition: Decomposition) -> None:
        """Store `decomposition` under `key`, replacing any earlier result.

        Raises `SchemaViolation` (and writes nothing) if the record does not match the schema.
        """
        data = decomposition.model_dump(mode="json")
        validate_decomposition(data)
        provenance = decomposition.provenance
        row = (
            key.digest,
            key.canonical_fields(),
            decomposition.artifact.id,
            decomposition.artifact.source_digest,
            datetime.now(timezone.utc).isoformat(timespec="microseconds"),
            len(decomposition.capabilities),
            sum(1 for capability in decomposition.capabilities if capability.grounding == "grounded"),
            provenance.prompt_tokens,
            provenance.completion_tokens,
            provenance.requests,
            json.dumps(data, separators=(",", ":"), ensure_ascii=False),
        )
        with self._write("write") as conn:
            conn.execute(
                "INSERT OR REPLACE INTO decompositions (key, key_fields, artifact_id, source_digest, created_at,"
                " capabilities, grounded, prompt_tokens, completion_tokens, requests, body)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )

    def entries(self) -> list[CacheEntry]:
        """Every cached result, newest first."""
        with self._guarded("list"):
            rows = self._conn.execute(
                "SELECT key, artifact_id, created_at, capabilities, grounded, prompt_tokens,"
                " completion_tokens, requests FROM decompositions ORDER BY created_at DESC, rowid DESC"
            ).fetchall()
        return [CacheEntry(*row) for row in rows]

    def load(self, key_prefix: str) -> Decomposition:
        """The one cached result whose key starts with `key_prefix` (at least 4 hex characters)."""
        prefix = key_prefix.strip().lower()
        if not _HEX_PREFIX.match(prefix):
            raise InputError(f"a cache key prefix is 4-64 hex characters, got {key_prefix!r}; see 'decompose cache ls'")
        with self._guarded("read"):
            rows = self._conn.execute(
                "SELECT key, body FROM decompositions WHERE substr(key, 1, ?) = ? LIMIT 2", (len(prefix), prefix)
            ).fetchall()
            matches = len(rows)
            if matches > 1:
                (matches,) = self._conn.execute(
                    "SELECT count(*) FROM decompositions WHERE substr(key, 1, ?) = ?", (len(prefix), prefix)
                ).fetchone()
        if matches == 0:
            raise InputError(f"no cached result with key starting {prefix}; see 'decompose cache ls'")
        if matches > 1:
            raise InputError(f"{matches} cached results have keys starting {prefix}; give more characters")
        key, body = rows[0]
        decomposition = self._checked(key, body)
        if decomposition is None:
            raise InputError(f"the cached result {key[:12]} was invalid and has been dropped; decompose the card again")
        return decomposition

    def stats(self) -> CacheStats:
        """Totals over every row (read from the indexed columns, bodies are not parsed)."""
        with self._guarded("count"):
            totals = self._conn.execute(
                "SELECT count(*), count(DISTINCT source_digest), total(capabilities), total(grounded),"
                " total(requests), total(prompt_tokens), total(completion_tokens) FROM decompositions"
            ).fetchone()
            per_model = self._conn.execute(
                "SELECT json_extract(key_fields, '$.endpoint'), json_extract(key_fields, '$.model'), count(*),"
                " total(requests), total(prompt_tokens), total(completion_tokens) FROM decompositions"
                " GROUP BY 1, 2 ORDER BY 3 DESC, 2"
            ).fetchall()
        rows, cards, *sums = totals
        return CacheStats(
            rows,
            cards,
            *(int(value) for value in sums),
            size_bytes=size_on_disk(self.path),
            by_model=tuple(
                ModelUsage(str(endpoint), str(model), count, int(requests), int(prompt), int(completion))
                for endpoint, model, count, requests, prompt, completion in per_model
            ),
        )

    def clear(self) -> int:
        """Delete every cached result; returns how many were deleted."""
        with self._write("clear") as conn:
            return conn.execute("DELETE FROM decompositions").rowcount

    def close(self) -> None:
        """Close the connection; safe to call twice."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------

    def _checked(self, key: str, body: str) -> Decomposition | None:
        """Parse and validate a stored body; delete the row and return None if it fails."""
        try:
            data = json.loads(body)
            validate_decomposition(data)
            return Decomposition.model_validate(data)
        except (ValueError, SchemaViolation, ValidationError) as exc:
            reason = str(exc).splitlines()[0]
        _log.warning("dropping invalid cached result %s from %s: %s", key[:12], self.path, reason)
        with self._write("drop an invalid row") as conn:
            # Only the body we judged: another process may have replaced it meanwhile.
            conn.execute("DELETE FROM decompositions WHERE key = ? AND body = ?", (key, body))
        return None

    # -- connection and transactions -------------------------------------------------------

    @contextmanager
    def _guarded(self, action: str) -> Iterator[sqlite3.Connection]:
        """Serialise use of the connection and turn SQLite failures into a one-line CacheError."""
        with self._lock:
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise CacheError(f"results cache at {self.path}: {action} failed: {exc}") from exc

    @contextmanager
    def _write(self, action: str) -> Iterator[sqlite3.Connection]:
        """One short write transaction, taking the write lock up front to avoid upgrade deadlocks."""
        with self._guarded(action) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _open(self) -> sqlite3.Connection:
        """Connect, moving a file that is not a SQLite database aside and starting afresh."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                return connect(self.path)
            except sqlite3.DatabaseError as exc:
                if getattr(exc, "sqlite_errorname", "") not in _CORRUPT_ERRORS:
                    raise
                self._move_aside(exc)
            return connect(self.path)
        except (OSError, sqlite3.Error) as exc:
            raise CacheError(
                f"cannot open the results cache at {self.path}: {exc}; "
                "choose another location with --cache PATH or DECOMPOSE_CACHE"
            ) from exc

    def _move_aside(self, cause: sqlite3.Error) -> None:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        moved_to = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            try:
                self.path.with_name(self.path.name + suffix).rename(moved_to.with_name(moved_to.name + suffix))
            except FileNotFoundError:  # no such companion, or another process moved it first
                pass
        _log.warning(
            "results cache %s is corrupt (%s); moved it to %s and started a new one", self.path, cause, moved_to
        )

