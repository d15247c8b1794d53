"""asyncio or threads for a batch? The same cards through both, in-process, at a fixed latency.

  - asyncio: `decompose.batch.Batch` as `decompose batch` runs it (2 x N workers, N requests out);
  - asyncio without request slots: N workers, each card start to end;
  - threads: a pool of N threads calling `Decomposer.decompose` (the sync client, shared).
Each engine gets fresh cards and a fresh cache, and builds its LLM client before the clock starts.

    python bench/batch_engines.py --cards 80 --latency 1.0 --concurrency 16
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from batch_support import card_list, server

from decompose.api import Decomposer
from decompose.batch import CARDS_PER_REQUEST, Batch, JsonlFile, read_source_list
from decompose.llm import LLMSettings
from decompose.llm.limits import RateLimiter


def with_asyncio(sources: list[str], settings: LLMSettings, work: Path, concurrency: int) -> float:
    return asynchronously(sources, settings, work / "slots", RateLimiter(in_flight=concurrency), concurrency)


def with_asyncio_no_slots(sources: list[str], settings: LLMSettings, work: Path, concurrency: int) -> float:
    return asynchronously(sources, settings, work / "no-slots", RateLimiter(), concurrency // CARDS_PER_REQUEST)


def asynchronously(
    sources: list[str], settings: LLMSettings, prefix: Path, limiter: RateLimiter, concurrency: int
) -> float:
    with Decomposer(settings, cache_path=prefix.with_suffix(".sqlite3"), limiter=limiter) as decomposer:
        decomposer.decompose(sources[0])
        with JsonlFile(prefix.with_suffix(".jsonl")) as sink:
            started = time.perf_counter()
            asyncio.run(Batch(decomposer, sink, workers=CARDS_PER_REQUEST * concurrency).run(sources[1:]))
            return time.perf_counter() - started


def with_threads(sources: list[str], settings: LLMSettings, work: Path, concurrency: int) -> float:
    with Decomposer(settings, cache_path=work / "threads.sqlite3") as decomposer:
        decomposer.decompose(sources[0])
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(decomposer.decompose, sources[1:]))
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=80)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--size", type=int, default=0, help="bytes per card (0: a few hundred)")
    options = parser.parse_args()
    ideal = options.cards * options.latency / options.concurrency
    setup = f"{options.cards} cards, latency {options.latency:g} s, concurrency {options.concurrency}"
    print(f"{setup}: ideal {ideal:.2f} s")
    with tempfile.TemporaryDirectory() as scratch, server(options.latency) as llm:
        work = Path(scratch)
        settings = LLMSettings(base_url=llm.base_url, api_key="bench-key")
        engines = (("asyncio", with_asyncio), ("asyncio, no slots", with_asyncio_no_slots), ("threads", with_threads))
        for start, (name, engine) in enumerate(engines):
            listing = card_list(work / name, options.cards + 1, size=options.size, start=start * 10_000)
            wall = engine(read_source_list(str(listing)), settings, work, options.concurrency)
            print(f"{name:<18} {wall:6.2f} s  efficiency {ideal / wall:.3f}")


if __name__ == "__main__":
    main()
