"""Noisy cards (the fixture facts amid real-world chrome) replay into the same grounded records,
with offsets into the noisy card as fetched."""

from __future__ import annotations

import json

import pytest

from decompose import Decomposer, LLMSettings
from tests.conftest import ANSWERS, CARDS, EXCHANGES, FIXTURES

MANIFEST = json.loads((FIXTURES / "exchanges.manifest.json").read_text())
RERECORD = "cleaning, prompts or noisy cards changed since recording: run `python scripts/record_fixtures.py`"


@pytest.mark.parametrize("card_name", MANIFEST["noisy_cards"])
def test_a_noisy_card_replays_into_the_faithful_records_with_offsets_into_it(card_name: str) -> None:
    path = CARDS / card_name
    expected = json.loads((ANSWERS / f"{path.stem}.json").read_text())
    with Decomposer(LLMSettings(replay_dir=EXCHANGES), use_cache=False) as decomposer:
        result = decomposer.decompose(str(path))
    assert [c.name for c in result.capabilities] == [c["name"] for c in expected["capabilities"]], RERECORD
    text = path.read_text(encoding="utf-8")
    for capability in result.capabilities:
        assert capability.grounding == "grounded" and capability.problems == []
        for evidence in capability.evidence:
            assert evidence.match == "exact"
            assert text[evidence.start : evidence.end] == evidence.quote
    assert result.notes == []


def test_every_noisy_card_with_an_answer_was_recorded() -> None:
    noisy = sorted(
        f"noisy/{path.name}" for path in (CARDS / "noisy").glob("*.md") if (ANSWERS / f"{path.stem}.json").is_file()
    )
    assert MANIFEST["noisy_cards"] == noisy, RERECORD
