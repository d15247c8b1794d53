"""Concurrency efficiency: N distinct cards at a fixed server latency, concurrency C vs 1.

Efficiency = ideal / wall, ideal = requests x latency / concurrency. Wall is given three ways:
  - requests: first request's arrival at the server to the last answer (server clock);
  - batch run: the `time:` line of the summary (first card started to last line written), which
    also holds building the LLM client on the first cache miss;
  - process: the whole command, interpreter start and imports included.
Concurrency 1 runs on fewer cards and is extrapolated per card, which the printout says.

    python bench/batch_speed.py --cards 80 --latency 1.0 --concurrency 16 --serial-cards 8
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from batch_support import card_list, checked, run_batch, server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=80)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--serial-cards", type=int, default=8)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        listing = card_list(work, options.cards)
        serial_listing = card_list(work, options.serial_cards, start=options.cards, name="serial.txt")
        with server(options.latency) as llm:
            common = ["--base-url", llm.base_url, "--cache", str(work / "cache.sqlite3")]
            parallel = checked(
                run_batch(str(listing), "-o", str(work / "out.jsonl"), "-j", str(options.concurrency), *common)
            )
            requests, span = llm.served()
        with server(options.latency) as llm:
            common = ["--base-url", llm.base_url, "--cache", str(work / "cache.sqlite3")]
            serial = checked(run_batch(str(serial_listing), "-o", str(work / "serial.jsonl"), "-j", "1", *common))
            serial_requests, _ = llm.served()

    ideal = requests * options.latency / options.concurrency
    answered = span + options.latency
    serial_per_card = serial.in_run / options.serial_cards
    serial_estimate = serial_per_card * options.cards
    print(
        f"{options.cards} cards, {requests} requests, latency {options.latency:g} s, concurrency {options.concurrency}"
    )
    print(f"ideal      {ideal:6.2f} s")
    print(f"requests   {answered:6.2f} s  efficiency {ideal / answered:.3f}  (first arrival to last answer)")
    print(f"batch run  {parallel.in_run:6.2f} s  efficiency {ideal / parallel.in_run:.3f}")
    print(f"process    {parallel.wall:6.2f} s  efficiency {ideal / parallel.wall:.3f}  (startup and imports included)")
    print(
        f"concurrency 1: {options.serial_cards} cards, {serial_requests} requests in {serial.in_run:.2f} s "
        f"({serial_per_card:.3f} s per card) -> {options.cards} cards extrapolated {serial_estimate:.1f} s"
    )
    print(f"speed-up over concurrency 1: {serial_estimate / parallel.in_run:.1f}x (batch run times)")


if __name__ == "__main__":
    main()
