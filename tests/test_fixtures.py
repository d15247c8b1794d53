"""The recorded exchanges must match the current prompts, and replay into grounded records."""

from __future__ import annotations

import json

import pytest

from decompose import Decomposer, LLMSettings
from decompose.prompts import prompt_set_version
from decompose.records import SCHEMA_VERSION, CapabilityAnswer
from tests.conftest import ANSWERS, CARDS, EXCHANGES, FIXTURES

MANIFEST = json.loads((FIXTURES / "exchanges.manifest.json").read_text())
RERECORD = "prompts or schema changed since the fixtures were recorded: run `python scripts/record_fixtures.py`"


def test_fixtures_were_recorded_with_the_current_prompts() -> None:
    assert MANIFEST["prompt_version"] == prompt_set_version(), RERECORD
    assert MANIFEST["schema_version"] == SCHEMA_VERSION, RERECORD


def test_every_recorded_exchange_is_listed_in_the_manifest() -> None:
    assert sorted(path.name for path in EXCHANGES.glob("*.json")) == MANIFEST["exchanges"]


@pytest.mark.parametrize("card_name", MANIFEST["cards"])
def test_each_fixture_card_replays_into_its_faithful_answer(card_name: str) -> None:
    expected = CapabilityAnswer.model_validate_json((ANSWERS / card_name.replace(".md", ".json")).read_text())
    with Decomposer(LLMSettings(replay_dir=EXCHANGES), use_cache=False) as decomposer:
        result = decomposer.decompose(str(CARDS / card_name))
    assert [c.name for c in result.capabilities] == [c.name for c in expected.capabilities], RERECORD
    assert {c.grounding for c in result.capabilities} == {"grounded"}
    assert all(c.problems == [] for c in result.capabilities)
