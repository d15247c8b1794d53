"""The SQLite file under the cache: tables, WAL mode, the format check and the size on disk."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from decompose.errors import CacheError

STORE_FORMAT = "1"
SCHEMA_SQL = (
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


def size_on_disk(path: Path) -> int:
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


def connect(path: Path) -> sqlite3.Connection:
    """Open `path`, set WAL mode and create the tables; raises sqlite3 errors as they come.

    Switching to WAL can fail with "database is locked" without waiting while another process
    creates the same file, so that one step is retried briefly; once WAL is on it is never redone.
    """
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    try:
        _enable_wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("BEGIN IMMEDIATE")
        for statement in SCHEMA_SQL:
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
