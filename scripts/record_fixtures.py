"""Re-record the LLM fixtures after a prompt or schema change: `python scripts/record_fixtures.py`.

The answers are hand-written (fixtures/answers/<card>.json, faithful to fixtures/cards/<card>.md);
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
from decompose.prompts import prompt_set_version  # noqa: E402
from decompose.records import SCHEMA_VERSION  # noqa: E402
from tests.support.openai_server import OpenAIServer, Reply, answer, error  # noqa: E402

CARDS = ROOT / "fixtures" / "cards"
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


def recorded_cards() -> list[Path]:
    """Every fixture card that has a faithful hand-written answer."""
    return [card for card in sorted(CARDS.glob("*.md")) if (ANSWERS / f"{card.stem}.json").is_file()]


def responder_for(cards: list[Path]) -> Any:
    answers = {card.read_text(encoding="utf-8"): json.loads((ANSWERS / f"{card.stem}.json").read_text()) for card in cards}

    def respond(body: dict[str, Any]) -> Reply:
        prompt = body["messages"][-1]["content"]
        for text, payload in answers.items():
            if text in prompt:
                return answer(payload)
        return error(400, body={"error": {"message": "no hand-written answer for this card"}})

    return respond


def main() -> None:
    cards = recorded_cards()
    shutil.rmtree(EXCHANGES, ignore_errors=True)
    EXCHANGES.mkdir(parents=True)
    with OpenAIServer(responder=responder_for(cards)) as server:
        settings = LLMSettings(api_key="sk-recording-placeholder", record_dir=EXCHANGES)
        with Decomposer(settings, use_cache=False, transport=ToLocalServer(server.base_url)) as decomposer:
            for card in cards:
                result = decomposer.decompose(str(card))
                verdicts = [capability.grounding for capability in result.capabilities]
                print(f"{card.name}: {len(verdicts)} capabilities, {verdicts.count('grounded')} grounded")
    manifest = {
        "prompt_version": prompt_set_version(),
        "schema_version": SCHEMA_VERSION,
        "cards": [card.name for card in cards],
        "exchanges": sorted(path.name for path in EXCHANGES.glob("*.json")),
    }
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"recorded {len(manifest['exchanges'])} exchanges into {EXCHANGES.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
