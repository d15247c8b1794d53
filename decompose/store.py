"""The results cache: finished Decompositions in SQLite, keyed by everything that changes an answer.

Concurrency: the database runs in WAL mode and every write is one short `BEGIN IMMEDIATE`
transaction, so several processes may share one file (each opens its own `Store`). A `Store` owns one
connection and serialises its use with a lock, so threads may share a `Store` too. Nothing slow (an
LLM call) ever runs inside a transaction: callers `get`, do their work, then `put`.

Every row is checked against the JSON Schema and the pydantic model when written and when read; a row
that fails on read is deleted and reported as a miss. Bodies are JSON; nothing is pickled.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any

import platformdirs
from pydantic import ValidationError

from decompose.errors import CacheError, InputError
from decompose.records import Decomposition
from decompose.schema import SchemaViolation, validate_decomposition

__all__ = ["CacheEntry", "CacheKey", "CacheStats", "ModelUsage", "Store", "default_cache_path"]

STORE_FORMAT = "1"
_log = logging.getLogger("decompose")
_HEX_PREFIX = re.compile(r"^[0-9a-f]{4,64}$")
_CORRUPT_ERRORS = frozenset({"SQLITE_NOTADB", "SQLITE_CORRUPT"})
_SCHEMA_SQL = (
    """CREATE TABLE IF NOT EXISTS decompositions (
        key TEXT PRIMARY KEY,
        key_fields TEXT NOT NULL,
        artifact_id TEXT,
        source_digest TEXT,
        created_at TEXT,
        capabilities INTEGER,
        grounded INTEGER,
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        requests INTEGER,
        body TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS decompositions_created_at ON decompositions (created_at)",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
)


def default_cache_path() -> Path:
    """`$DECOMPOSE_CACHE` if set, else `cache.sqlite3` in the platform's user cache directory."""
    configured = os.environ.get("DECOMPOSE_CACHE")
    if configured:
        return Path(configured).expanduser()
    return platformdirs.user_cache_path("decompose") / "cache.sqlite3"


def _canonical_json(value: Any) -> str:
    """One spelling per value: sorted keys, no spaces, no NaN, and no `str()` fallback that could
    smuggle an object's id into a key."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@dataclass(frozen=True)
class CacheKey:
    """The identity of one answer. Build it once and pass the same object to `get` and `put`."""

    fields: Mapping[str, Any] = field(compare=False)
    digest: str

    @classmethod
    def build(
        cls,
        *,
        card_digest: str,
        cleaning_version: str,
        endpoint: str,
        model: str,
        mode: str,
        prompt_version: str,
        schema_version: str,
        params: Mapping[str, Any],
    ) -> CacheKey:
        """Key from an explicit list of fields; `params` holds every generation parameter.

        Nothing implicit (object ids, defaults filled in later) may enter, or keys stop matching
        across runs; the fields are copied, so later changes to `params` cannot alter the key.
        """
        named = {
            "card_digest": card_digest,
            "cleaning_version": cleaning_version,
            "endpoint": endpoint,
            "model": model,
            "mode": mode,
            "prompt_version": prompt_version,
            "schema_version": schema_version,
        }
        for name, value in named.items():
            if not isinstance(value, str):
                raise TypeError(f"cache key field {name} must be a str, got {type(value).__name__}")
        if not isinstance(params, Mapping):
            raise TypeError(f"cache key field params must be a mapping, got {type(params).__name__}")
        canonical = _canonical_json({**named, "params": dict(params)})
        return cls(
            fields=MappingProxyType(json.loads(canonical)),
            digest=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        )

    def canonical_fields(self) -> str:
        """The fields as canonical JSON, as stored beside each row for inspection."""
        return _canonical_json(dict(self.fields))


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
            size_bytes=_size_on_disk(self.path),
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
                return _connect(self.path)
            except sqlite3.DatabaseError as exc:
                if getattr(exc, "sqlite_errorname", "") not in _CORRUPT_ERRORS:
                    raise
                self._move_aside(exc)
            return _connect(self.path)
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


def _size_on_disk(path: Path) -> int:
    """The database with its WAL and shared-memory files, which another process may remove meanwhile."""
    size = 0
    for suffix in ("", "-wal", "-shm"):
        try:
            size += path.with_name(path.name + suffix).stat().st_size
        except FileNotFoundError:
            pass
    return size


def _enable_wal(conn: sqlite3.Connection, attempts: int = 100) -> None:
    for attempt in range(attempts):
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.02)


def _connect(path: Path) -> sqlite3.Connection:
    """Open `path`, set WAL mode and create the tables; raises sqlite3 errors as they come.

    Switching to WAL can fail with "database is locked" without waiting while another process
    creates the same file, so that one step is retried briefly; once WAL is on it is never redone.
    """
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    try:
        _enable_wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("BEGIN IMMEDIATE")
        for statement in _SCHEMA_SQL:
            conn.execute(statement)
        conn.execute("INSERT OR IGNORE INTO meta (name, value) VALUES ('format', ?)", (STORE_FORMAT,))
        (found,) = conn.execute("SELECT value FROM meta WHERE name = 'format'").fetchone()
        conn.execute("COMMIT")
    except BaseException:
        conn.close()
        raise
    if found != STORE_FORMAT:
        conn.close()
        raise CacheError(
            f"results cache at {path} has format {found}, this decompose reads format {STORE_FORMAT}; "
            "choose another location with --cache PATH or DECOMPOSE_CACHE"
        )
    return conn
