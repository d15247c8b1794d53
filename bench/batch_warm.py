"""Warm reruns and memory: N cards decomposed once, then again from the cache (no request allowed).

Prints, for the cold run, the warm rerun into a fresh output, and the rerun of the same command
(everything already in the output, so skipped): process wall time, the batch run's own time, CPU,
peak RSS, and how many requests reached the server. Peak RSS is also measured for a run a tenth
the size, to show whether memory grows with the number of cards.

    python bench/batch_warm.py --cards 1000
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from batch_support import Measured, card_list, checked, run_batch, server


def row(name: str, measured: Measured, requests: int) -> str:
    return (
        f"{name:<28} wall {measured.wall:6.2f} s  batch run {measured.in_run:6.2f} s  cpu {measured.cpu:6.2f} s  "
        f"peak RSS {measured.peak_rss_mb:6.1f} MB  requests {requests}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=1000)
    parser.add_argument("--size", type=int, default=0, help="bytes per card (0: a few hundred)")
    parser.add_argument("--concurrency", type=int, default=16)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, server(0.0) as llm:
        work = Path(scratch)
        listing = card_list(work, options.cards, size=options.size)
        small = card_list(work / "small", options.cards // 10, size=options.size, start=options.cards)
        common = ["--base-url", llm.base_url, "--cache", str(work / "cache.sqlite3"), "-j", str(options.concurrency)]

        def measured(listing: Path, out: str) -> tuple[Measured, int]:
            before = llm.requests()
            result = checked(run_batch(str(listing), "-o", str(work / out), *common))
            return result, llm.requests() - before

        small_cold = measured(small, "small.jsonl")
        cold = measured(listing, "cold.jsonl")
        warm = measured(listing, "warm.jsonl")
        resumed = measured(listing, "warm.jsonl")
    print(f"{options.cards} cards of {options.size or 'a few hundred'} bytes, concurrency {options.concurrency}")
    print(row(f"cold, {options.cards // 10} cards", *small_cold))
    print(row(f"cold, {options.cards} cards", *cold))
    print(row("warm rerun, fresh output", *warm))
    print(row("rerun, all already in output", *resumed))


if __name__ == "__main__":
    main()
