"""A local OpenAI-compatible server with a fixed latency per request, in its own process.

Answers every chat request by quoting the card it is about (tests/support/batch_cards.py), so the
batch benchmarks exercise grounding for real. Prints its base URL on the first line of stdout; each
line read from stdin is answered with the number of requests received so far and the seconds from
the first request's arrival to the last one's (time.monotonic, so only differences mean anything);
EOF stops it.
Running apart from the measured process keeps the server's CPU out of the client's numbers.

    python bench/batch_server.py --latency 1.0 [--loosely]
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.batch_cards import quoting_responder
from tests.support.openai_server import OpenAIServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--loosely", action="store_true", help="first quote of each answer in lower case")
    options = parser.parse_args()
    responder = functools.partial(quoting_responder, loosely=options.loosely)
    with OpenAIServer(responder=responder, latency=options.latency) as server:
        print(server.base_url, flush=True)
        for _ in sys.stdin:
            arrivals = [request.received_at for request in server.requests] or [0.0]
            print(len(arrivals) if server.requests else 0, max(arrivals) - min(arrivals), flush=True)


if __name__ == "__main__":
    main()
