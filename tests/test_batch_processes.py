"""`decompose batch` as separate processes: killed with SIGKILL, interrupted, two sharing one cache."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from decompose.store import Store
from tests.support.batch_cards import quoting_responder, requested_card, write_cards
from tests.support.openai_server import OpenAIServer

COMMAND = [sys.executable, "-c", "from decompose.cli import app; app()", "batch"]


def start(server: OpenAIServer, listing: Path, out: Path, cache: Path, *extra: str) -> subprocess.Popen[str]:
    arguments = [str(listing), "-o", str(out), "--base-url", server.base_url, "--cache", str(cache), *extra]
    return subprocess.Popen(
        [*COMMAND, *arguments],
        env={**os.environ, "OPENAI_API_KEY": "test-key"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def write_listing(tmp_path: Path, count: int, name: str = "list.txt") -> tuple[Path, list[str]]:
    sources = [str(path) for path in write_cards(tmp_path / "cards", count)]
    listing = tmp_path / name
    listing.write_text("\n".join(sources) + "\n", encoding="utf-8")
    return listing, sources


def whole_lines(path: Path) -> list[bytes]:
    return [line for line in path.read_bytes().split(b"\n")[:-1]]


def wait_for_lines(path: Path, count: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and process.poll() is None:
        if path.exists() and len(whole_lines(path)) >= count:
            return
        time.sleep(0.02)
    raise AssertionError(f"{path} never reached {count} lines; stderr: {process.stderr and process.stderr.read()}")


def test_a_rerun_after_sigkill_does_only_what_is_left(tmp_path: Path) -> None:
    listing, sources = write_listing(tmp_path, 24)
    out, cache = tmp_path / "out.jsonl", tmp_path / "cache.sqlite3"
    with OpenAIServer(responder=quoting_responder, latency=0.15) as server:
        process = start(server, listing, out, cache, "--concurrency", "3")
        wait_for_lines(out, 6, process)
        process.kill()
        process.wait()
    with out.open("ab") as stream:  # as if the kill had landed in the middle of a write
        stream.write(b'{"schema_version":"1","artifact":{"id":"card-b')
    finished_before = {json.loads(line)["source"] for line in whole_lines(Path(f"{out}.journal"))}
    assert 6 <= len(finished_before) < 24

    with OpenAIServer(responder=quoting_responder) as server:
        process = start(server, listing, out, cache, "--concurrency", "3")
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert f"{len(finished_before)} already in {out} from an earlier run" in err
    requested = [requested_card(request.body) for request in server.requests]
    assert len(requested) == len(set(requested))
    assert not set(requested) & {Path(source).stem for source in finished_before}

    results = [json.loads(line) for line in whole_lines(out)]
    journal = [json.loads(line) for line in whole_lines(Path(f"{out}.journal"))]
    assert out.read_bytes().endswith(b"\n")
    assert sorted(result["artifact"]["id"] for result in results) == sorted(Path(source).stem for source in sources)
    assert sorted(entry["source"] for entry in journal) == sorted(sources)
    assert [entry["cache_key"] for entry in journal] == [result["provenance"]["cache_key"] for result in results]


def test_ctrl_c_stops_cleanly_keeps_whole_lines_and_exits_130(tmp_path: Path) -> None:
    listing, _ = write_listing(tmp_path, 20)
    out, cache = tmp_path / "out.jsonl", tmp_path / "cache.sqlite3"
    with OpenAIServer(responder=quoting_responder, latency=0.3) as server:
        process = start(server, listing, out, cache, "--concurrency", "2")
        wait_for_lines(out, 2, process)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "; interrupted, " in err and " not done (rerun the same command to resume)" in err
    assert "Traceback" not in err
    results = [json.loads(line) for line in whole_lines(out)]
    assert out.read_bytes().endswith(b"\n") and 2 <= len(results) < 20
    assert len(whole_lines(Path(f"{out}.journal"))) == len(results)


def test_two_processes_share_one_cache_without_errors_or_lost_rows(tmp_path: Path) -> None:
    listing, sources = write_listing(tmp_path, 30)
    backwards = tmp_path / "backwards.txt"
    backwards.write_text("\n".join(reversed(sources)) + "\n", encoding="utf-8")
    cache = tmp_path / "shared.sqlite3"
    with OpenAIServer(responder=quoting_responder, latency=0.02) as server:
        first = start(server, listing, tmp_path / "a.jsonl", cache, "--concurrency", "4")
        second = start(server, backwards, tmp_path / "b.jsonl", cache, "--concurrency", "4")
        outcomes = [process.communicate(timeout=60) for process in (first, second)]
    for process, (_, err) in zip((first, second), outcomes, strict=True):
        assert process.returncode == 0, err
        assert "error" not in err
    for name in ("a.jsonl", "b.jsonl"):
        assert len(whole_lines(tmp_path / name)) == 30
    with Store(cache) as store:
        stats = store.stats()
    assert (stats.rows, stats.cards) == (30, 30)


def test_a_reader_quitting_stdout_ends_the_batch_with_one_line(tmp_path: Path) -> None:
    listing, _ = write_listing(tmp_path, 60)
    with OpenAIServer(responder=quoting_responder) as server:
        process = subprocess.Popen(
            [*COMMAND, str(listing), "--base-url", server.base_url, "--cache", str(tmp_path / "c.sqlite3")],
            env={**os.environ, "OPENAI_API_KEY": "test-key"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.read(100).startswith(b'{"schema_version":"1"')
        process.stdout.close()  # like `| head -c 100`
        err = process.stderr.read().decode()
        process.wait(timeout=30)
    assert process.returncode == 1
    assert err.strip().splitlines()[-1] == (
        "decompose: error: standard output was closed before the batch finished; use --out FILE to keep every result"
    )
    assert "Traceback" not in err and "Exception ignored" not in err
