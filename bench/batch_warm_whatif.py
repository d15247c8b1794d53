"""Where a warm rerun's time goes: the same in-process warm batch as is, with the cache's check on
read done by plain jsonschema against the shipped schema (how it was done before `SchemaVerdict`),
and with that check stubbed out (what-ifs, to size that one cost; never how decompose runs).

    python bench/batch_warm_whatif.py --cards 1000
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from batch_support import card_list, server
from jsonschema import Draft202012Validator

import decompose.store.cache
from decompose.api import Decomposer
from decompose.batch import Batch, JsonlFile, read_source_list
from decompose.llm import LLMSettings
from decompose.schema import decomposition_schema


def warm_run(sources: list[str], settings: LLMSettings, cache: Path, out: Path) -> tuple[float, float, int]:
    with Decomposer(settings, cache_path=cache) as decomposer, JsonlFile(out) as sink:
        started, cpu = time.perf_counter(), time.process_time()
        report = asyncio.run(Batch(decomposer, sink, workers=32).run(sources))
        return time.perf_counter() - started, time.process_time() - cpu, report.cached


def show(label: str, measured: tuple[float, float, int]) -> None:
    wall, cpu, cached = measured
    print(f"{label:<38} {wall:5.2f} s wall, {cpu:5.2f} s CPU, {cached} from the cache")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=1000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, server(0.0) as llm:
        work = Path(scratch)
        sources = read_source_list(str(card_list(work, options.cards)))
        settings = LLMSettings(base_url=llm.base_url, api_key="bench-key")
        warm_run(sources, settings, work / "cache.sqlite3", work / "cold.jsonl")
        cache = work / "cache.sqlite3"
        show("warm, as is:", warm_run(sources, settings, cache, work / "warm.jsonl"))
        plain = Draft202012Validator(decomposition_schema())
        decompose.store.cache.validate_decomposition = lambda data: list(plain.iter_errors(data))
        show("warm, plain jsonschema check on read:", warm_run(sources, settings, cache, work / "plain.jsonl"))
        decompose.store.cache.validate_decomposition = lambda data: None
        show("warm, no jsonschema check on read:", warm_run(sources, settings, cache, work / "none.jsonl"))

if __name__ == "__main__":
    main()
