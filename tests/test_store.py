"""The results cache: keys, round trips, self-healing on bad rows and files, and several writers."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import platformdirs
import pytest

from decompose.errors import CacheError, InputError
from decompose.schema import SchemaViolation
from decompose.store import CacheEntry, CacheKey, Store, default_cache_path
from tests.test_schema import make_decomposition, make_decomposition_data

KEY_FIELDS: dict[str, Any] = {
    "card_digest": "sha256:" + "ab" * 32,
    "cleaning_version": "1",
    "endpoint": "https://api.openai.com/v1",
    "model": "gpt-4.1-mini",
    "mode": "tools",
    "prompt_version": "3f2a9c1b7d4e",
    "schema_version": "1",
    "params": {"temperature": 0.0, "seed": 7, "max_output_tokens": 4096},
}
# Computed once from KEY_FIELDS and pinned: a change here means every user's cache silently misses.
PINNED_DIGEST = "970703d253b1ce83f7e24b0e1dfe7e914668cc2f7495a6afbef25ba8f6bedfb3"


def make_key(**changes: Any) -> CacheKey:
    return CacheKey.build(**{**KEY_FIELDS, **changes})


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with Store(tmp_path / "cache" / "cache.sqlite3") as opened:
        yield opened


def row_count(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM decompositions").fetchone()[0]


# -- keys ----------------------------------------------------------------------------------------


def test_key_digest_is_pinned_across_processes_and_versions() -> None:
    assert make_key().digest == PINNED_DIGEST


def test_key_ignores_argument_and_dict_order() -> None:
    reordered = {"max_output_tokens": 4096, "seed": 7, "temperature": 0.0}
    assert make_key(params=reordered) == make_key()


def test_key_copies_its_fields_so_later_changes_cannot_alter_it() -> None:
    params = {"temperature": 0.0, "seed": 7, "max_output_tokens": 4096}
    key = make_key(params=params)
    params["temperature"] = 1.0
    assert key.digest == PINNED_DIGEST
    assert key.fields["params"]["temperature"] == 0.0
    with pytest.raises(TypeError):
        key.fields["model"] = "other"  # type: ignore[index]


def test_key_refuses_values_without_a_stable_json_spelling() -> None:
    with pytest.raises(TypeError):
        make_key(params={"client": object()})
    with pytest.raises(ValueError):
        make_key(params={"temperature": float("nan")})
    with pytest.raises(TypeError, match="model must be a str"):
        make_key(model=None)


def test_key_requires_every_field() -> None:
    fields = dict(KEY_FIELDS)
    del fields["cleaning_version"]
    with pytest.raises(TypeError):
        CacheKey.build(**fields)


def test_default_cache_path_honours_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DECOMPOSE_CACHE", str(tmp_path / "mine.sqlite3"))
    assert default_cache_path() == tmp_path / "mine.sqlite3"
    monkeypatch.delenv("DECOMPOSE_CACHE")
    assert default_cache_path() == platformdirs.user_cache_path("decompose") / "cache.sqlite3"


# -- round trips and misses ------------------------------------------------------------------


def test_put_then_get_returns_an_equal_decomposition(store: Store) -> None:
    key = make_key()
    decomposition = make_decomposition()
    assert store.get(key) is None
    store.put(key, decomposition)
    assert store.get(key) == decomposition


@pytest.mark.parametrize(
    "changes",
    [
        {"params": {**KEY_FIELDS["params"], "temperature": 0.7}},
        {"prompt_version": "3f2a9c1b7d4f"},
        {"cleaning_version": "2"},
    ],
)
def test_a_key_differing_in_one_field_is_a_miss(store: Store, changes: dict[str, Any]) -> None:
    store.put(make_key(), make_decomposition())
    assert store.get(make_key()) is not None
    assert store.get(make_key(**changes)) is None


def test_put_refuses_a_record_outside_the_schema_and_writes_nothing(store: Store) -> None:
    valid = make_decomposition()
    short = valid.capabilities[0].model_copy(update={"description": "Too short to describe anything."})
    decomposition = valid.model_copy(update={"capabilities": [short]})  # model_copy skips pydantic's checks
    with pytest.raises(SchemaViolation, match=r"^capabilities\[0\]\.description: .* is too short$"):
        store.put(make_key(), decomposition)
    assert row_count(store.path) == 0


def test_store_uses_wal_and_records_its_format(store: Store) -> None:
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("SELECT value FROM meta WHERE name = 'format'").fetchone() == ("1",)


# -- self-healing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE decompositions SET body = json_set(body, '$.capabilities[0].evidence[0].start', -3)",
        "UPDATE decompositions SET body = json_remove(body, '$.provenance')",
        "UPDATE decompositions SET body = '{\"schema_version\": \"1\", truncated'",
    ],
)
def test_a_tampered_row_is_dropped_on_read(store: Store, tamper: str, caplog: pytest.LogCaptureFixture) -> None:
    key = make_key()
    store.put(key, make_decomposition())
    with sqlite3.connect(store.path) as conn:
        conn.execute(tamper)
    with caplog.at_level(logging.WARNING, logger="decompose"):
        assert store.get(key) is None
    assert f"dropping invalid cached result {key.digest[:12]}" in caplog.text
    assert row_count(store.path) == 0
    assert store.get(key) is None


def test_a_corrupt_file_is_moved_aside_and_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "cache.sqlite3"
    garbage = b"this is not a SQLite database\x00\xff" * 200
    path.write_bytes(garbage)
    with caplog.at_level(logging.WARNING, logger="decompose"), Store(path) as store:
        store.put(make_key(), make_decomposition())
        assert store.get(make_key()) == make_decomposition()
    moved = [p for p in tmp_path.iterdir() if p.name.startswith("cache.sqlite3.corrupt-")]
    assert len(moved) == 1 and moved[0].read_bytes() == garbage
    assert "is corrupt" in caplog.text and moved[0].name in caplog.text


def test_an_unwritable_location_is_a_one_line_cache_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache directory should be")
    path = blocker / "cache.sqlite3"
    with pytest.raises(CacheError) as caught:
        Store(path)
    message = str(caught.value)
    assert str(path) in message and "--cache PATH" in message and "DECOMPOSE_CACHE" in message
    assert "\n" not in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through directory permissions")
def test_a_read_only_directory_is_a_cache_error(tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(CacheError, match="--cache PATH"):
            Store(tmp_path / "cache.sqlite3")
    finally:
        tmp_path.chmod(0o700)


# -- listing, loading, clearing --------------------------------------------------------------


def test_entries_list_newest_first_with_counts(store: Store) -> None:
    older, newer = make_key(model="gpt-4.1"), make_key(model="gpt-4.1-mini")
    store.put(older, make_decomposition())
    store.put(newer, make_decomposition())
    entries = store.entries()
    assert [entry.key for entry in entries] == [newer.digest, older.digest]
    assert entries[0] == CacheEntry(
        key=newer.digest,
        artifact_id="Qwen/Qwen3-Embedding-4B",
        created_at=entries[0].created_at,
        capabilities=2,
        grounded=1,
        prompt_tokens=4210,
        completion_tokens=1388,
        requests=2,
    )
    assert entries[0].created_at >= entries[1].created_at


def test_load_by_unique_prefix(store: Store) -> None:
    key = make_key()
    store.put(key, make_decomposition())
    store.put(make_key(model="other"), make_decomposition())
    assert store.load(key.digest[:8].upper()) == make_decomposition()


def test_load_with_a_missing_prefix_says_where_to_look(store: Store) -> None:
    store.put(make_key(), make_decomposition())
    absent = "0000" if not PINNED_DIGEST.startswith("0000") else "ffff"
    with pytest.raises(InputError, match=f"^no cached result with key starting {absent}; see 'decompose cache ls'$"):
        store.load(absent)
    with pytest.raises(InputError, match="4-64 hex characters"):
        store.load("ea4")


def test_load_with_an_ambiguous_prefix_says_how_many_match(store: Store) -> None:
    by_prefix: dict[str, CacheKey] = {}
    for seed in range(100_000):  # birthday bound on 16 bits: a shared 4-char prefix within a few hundred
        key = make_key(params={"seed": seed})
        if key.digest[:4] in by_prefix:
            break
        by_prefix[key.digest[:4]] = key
    prefix = key.digest[:4]
    store.put(key, make_decomposition())
    store.put(by_prefix[prefix], make_decomposition())
    with pytest.raises(InputError, match=f"^2 cached results have keys starting {prefix}"):
        store.load(prefix)
    assert store.load(key.digest[:12]) == make_decomposition()


def test_clear_returns_how_many_rows_it_deleted(store: Store) -> None:
    for seed in range(3):
        store.put(make_key(params={"seed": seed}), make_decomposition())
    assert store.clear() == 3
    assert store.entries() == []
    assert store.clear() == 0


def test_a_closed_store_reports_a_cache_error(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache.sqlite3")
    store.close()
    store.close()
    with pytest.raises(CacheError):
        store.get(make_key())


# -- several writers ---------------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from decompose.records import Decomposition
    from decompose.store import CacheKey, Store

    cache, body, ready, go, writer = sys.argv[1:]
    fields = json.loads(Path(body).read_text())
    decomposition = Decomposition.model_validate(fields["decomposition"])
    with Store(Path(cache)) as store:
        Path(ready).touch()
        while not Path(go).exists():
            time.sleep(0.005)
        for n in range(50):
            key = CacheKey.build(**{**fields["key"], "params": {"writer": writer, "n": n}})
            store.put(key, decomposition)
            assert store.get(key) == decomposition
    """
)


def test_two_processes_write_one_file_concurrently(tmp_path: Path) -> None:
    cache, body, go = tmp_path / "shared.sqlite3", tmp_path / "input.json", tmp_path / "go"
    body.write_text(json.dumps({"decomposition": make_decomposition_data(), "key": KEY_FIELDS}))
    ready = [tmp_path / f"ready-{writer}" for writer in "ab"]
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(cache), str(body), str(flag), str(go), flag.name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for flag in ready
    ]
    deadline = time.monotonic() + 20
    while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
        if any(writer.poll() is not None for writer in writers):
            break
        time.sleep(0.01)
    go.touch()
    results = [writer.communicate(timeout=30) for writer in writers]
    assert [(writer.returncode, err) for writer, (_, err) in zip(writers, results)] == [(0, ""), (0, "")]
    assert row_count(cache) == 100


def test_threads_may_share_one_store(store: Store) -> None:
    def put_and_get(seed: int) -> bool:
        key = make_key(params={"seed": seed})
        store.put(key, make_decomposition())
        return store.get(key) is not None

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert all(pool.map(put_and_get, range(20)))
    assert len(store.entries()) == 20
