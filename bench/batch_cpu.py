"""CPU time of the pipeline per card, the LLM excluded: fetch from disk, clean, prompt, parse, ground,
validate, store -- plus the client's own request and response handling.

Marginal cost: two `decompose batch` processes against a server answering at once (in its own
process, so its CPU is not counted), one with K more cards than the other; the difference in CPU
time divided by K is the cost of one card, with interpreter start, imports and building the LLM
client cancelled out. The answers quote the cards exactly, so grounding never normalises (folds) a
card; `--loosely` makes one quote per answer match only once the card is folded, as real answers
often do. `--profile` adds an in-process profile (sync path) naming the hot spots.

    python bench/batch_cpu.py --size 20000 --cards 200 [--loosely] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
from pathlib import Path

from batch_support import card_list, checked, run_batch, server

from decompose.api import Decomposer
from decompose.batch import read_source_list
from decompose.llm import LLMSettings

BASE_CARDS = 20


def profile(listing: Path, base_url: str, cache: Path, top: int) -> None:
    sources = read_source_list(str(listing))
    with Decomposer(LLMSettings(base_url=base_url, api_key="bench-key"), cache_path=cache) as decomposer:
        decomposer.decompose(sources[0])  # build the client outside the profile
        profiler = cProfile.Profile()
        profiler.enable()
        for source in sources[1:]:
            decomposer.decompose(source)
        profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20_000, help="bytes per card")
    parser.add_argument("--cards", type=int, default=200, help="K: the extra cards of the second run")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--loosely", action="store_true", help="answers quote one fact in lower case, so grounding folds each card"
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, server(0.0, loosely=options.loosely) as llm:
        work = Path(scratch)
        base = card_list(work / "base", BASE_CARDS, size=options.size)
        more = card_list(work / "more", BASE_CARDS + options.cards, size=options.size, start=10_000)
        common = ["--base-url", llm.base_url, "-j", str(options.concurrency)]
        small = checked(run_batch(str(base), "-o", str(work / "a.jsonl"), "--cache", str(work / "a.sqlite3"), *common))
        large = checked(run_batch(str(more), "-o", str(work / "b.jsonl"), "--cache", str(work / "b.sqlite3"), *common))
        requests = llm.requests()
        per_card = (large.cpu - small.cpu) / options.cards
        print(f"cards of {options.size} bytes; {requests} requests for {2 * BASE_CARDS + options.cards} cards")
        print(f"CPU {small.cpu:.2f} s for {BASE_CARDS} cards, {large.cpu:.2f} s for {BASE_CARDS + options.cards}")
        print(f"CPU per card: {per_card * 1000:.1f} ms")
        if options.profile:
            sample = card_list(work / "sample", 50, size=options.size, start=20_000)
            profile(sample, llm.base_url, work / "p.sqlite3", top=25)


if __name__ == "__main__":
    main()
