"""What the batch benchmarks share: the server process, generated cards, and a measured CLI run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.batch_cards import write_cards  # noqa: E402  (needs ROOT on sys.path)

DECOMPOSE = Path(sys.executable).parent / "decompose"
IN_RUN_TIME = re.compile(r"^time: ([0-9.]+) s$", re.MULTILINE)


class Server:
    """bench/batch_server.py in its own process; `requests()` asks it how many it served."""

    def __init__(self, latency: float, *, loosely: bool = False) -> None:
        command = [sys.executable, str(ROOT / "bench" / "batch_server.py"), "--latency", str(latency)]
        self._process = subprocess.Popen(
            [*command, "--loosely"] if loosely else command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        self.base_url = self._process.stdout.readline().strip()

    def requests(self) -> int:
        return self.served()[0]

    def served(self) -> tuple[int, float]:
        """Requests received so far, and seconds from the first arrival to the last."""
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write("\n")
        self._process.stdin.flush()
        count, span = self._process.stdout.readline().split()
        return int(count), float(span)

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=10)


@contextmanager
def server(latency: float, *, loosely: bool = False) -> Iterator[Server]:
    running = Server(latency, loosely=loosely)
    try:
        yield running
    finally:
        running.close()


@dataclass(frozen=True)
class Measured:
    """One `decompose batch` process: wall and CPU seconds, peak RSS, and its own `time:` line."""

    wall: float
    cpu: float
    peak_rss_mb: float
    in_run: float
    returncode: int
    stderr: str


def run_batch(*arguments: str) -> Measured:
    """Run `decompose batch ARGUMENTS` and measure that process alone (os.wait4's rusage)."""
    env = {**os.environ, "OPENAI_API_KEY": "bench-key"}
    with tempfile.TemporaryFile("w+") as errors:
        started = time.perf_counter()
        command = [str(DECOMPOSE), "batch", *arguments]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        stderr = errors.read()
    found = IN_RUN_TIME.search(stderr)
    return Measured(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=usage.ru_maxrss / 1024,
        in_run=float(found.group(1)) if found else float("nan"),
        returncode=process.returncode,
        stderr=stderr,
    )


def card_list(directory: Path, count: int, *, size: int = 0, start: int = 0, name: str = "list.txt") -> Path:
    """Write `count` generated cards and a list file naming them; returns the list file."""
    paths = write_cards(directory / "cards", count, size=size, start=start)
    listing = directory / name
    listing.write_text("\n".join(str(path) for path in paths) + "\n", encoding="utf-8")
    return listing


def checked(measured: Measured) -> Measured:
    if measured.returncode != 0:
        raise SystemExit(f"decompose batch failed ({measured.returncode}):\n{measured.stderr}")
    return measured
