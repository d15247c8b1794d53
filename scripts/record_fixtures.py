"""Re-record the LLM fixtures after a prompt, schema or cleaning change: `python scripts/record_fixtures.py`

The answers are hand-written (fixtures/answers/<card>.json, faithful to fixtures/cards/<card>.md and to
its noisy twin fixtures/cards/noisy/<card>.md, which states the same facts amid more chrome);
a local scripted OpenAI-compatible server serves them to the real openai + instructor client while
`--record` writes each exchange into fixtures/exchanges/. The client is configured exactly as the
quick start's (default OpenAI endpoint, auto mode); only the transport under it routes the requests
to the local server, so the recorded request bodies are the ones a replay will send. The manifest pins the prompt version
the recordings were made with, so tests/test_fixtures.py can say when they are stale.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import httpx2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from decompose import Decomposer, LLMSettings  # noqa: E402
from decompose.cleaning import clean_card  # noqa: E402
from decompose.extract.messages import part_messages  # noqa: E402
from decompose.prompts import prompt_set_version  # noqa: E402
from decompose.records import SCHEMA_VERSION  # noqa: E402
from decompose.sources import load_card  # noqa: E402
from tests.support.openai_server import OpenAIServer, Reply, answer, error  # noqa: E402

CARDS = ROOT / "fixtures" / "cards"
NOISY_CARDS = CARDS / "noisy"
ANSWERS = ROOT / "fixtures" / "answers"
EXCHANGES = ROOT / "fixtures" / "exchanges"
MANIFEST = ROOT / "fixtures" / "exchanges.manifest.json"


class ToLocalServer(httpx2.HTTPTransport):
    """Sends every request to the scripted server, whatever host the client addressed."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self._target = httpx2.URL(base_url)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request.url = request.url.copy_with(scheme="http", host=self._target.host, port=self._target.port)
        return super().handle_request(request)


def recorded_cards(directory: Path = CARDS) -> list[Path]:
    """Every fixture card in `directory` that has a faithful hand-written answer."""
    return [card for card in sorted(directory.glob("*.md")) if (ANSWERS / f"{card.stem}.json").is_file()]


def responder_for(cards: list[Path]) -> Any:
    """Answers a card's request (its cleaned text, sent in one part) with the card's hand-written answer."""
    answers = {}
    for path in cards:
        cleaned = clean_card(load_card(str(path)))
        answers[part_messages(cleaned.text.strip(), 1, 1)[-1]["content"]] = json.loads(
            (ANSWERS / f"{path.stem}.json").read_text()
        )

    def respond(body: dict[str, Any]) -> Reply:
        messages = body["messages"]
        payload = answers.get(messages[-1]["content"])
        if payload is not None:
            return answer(payload)
        if len(messages) == 4 and messages[1]["content"] in answers:
            # A grounding re-ask: the hand-written answer stands by its records (they stay flagged).
            return answer(json.loads(messages[2]["content"]))
        return error(400, body={"error": {"message": "no hand-written answer for this card"}})

    return respond


def main() -> int:
    cards = recorded_cards()
    noisy = recorded_cards(NOISY_CARDS)
    shutil.rmtree(EXCHANGES, ignore_errors=True)
    EXCHANGES.mkdir(parents=True)
    with OpenAIServer(responder=responder_for(cards + noisy)) as server:
        settings = LLMSettings(api_key="sk-recording-placeholder", record_dir=EXCHANGES)
        with Decomposer(settings, use_cache=False, transport=ToLocalServer(server.base_url)) as decomposer:
            flagged = []
            for card in cards + noisy:
                result = decomposer.decompose(str(card))
                verdicts = [capability.grounding for capability in result.capabilities]
                name = card.relative_to(CARDS)
                print(f"{name}: {len(verdicts)} capabilities, {verdicts.count('grounded')} grounded")
                flagged += [f"{name}: {c.name}: {'; '.join(c.problems)}" for c in result.capabilities if c.problems]
    manifest = {
        "prompt_version": prompt_set_version(),
        "schema_version": SCHEMA_VERSION,
        "cards": [card.name for card in cards],
        "noisy_cards": [str(card.relative_to(CARDS)) for card in noisy],
        "exchanges": sorted(path.name for path in EXCHANGES.glob("*.json")),
    }
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"recorded {len(manifest['exchanges'])} exchanges into {EXCHANGES.relative_to(ROOT)}")
    if flagged:
        print("the hand-written answers are meant to be faithful, but grounding flags:", *flagged, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
