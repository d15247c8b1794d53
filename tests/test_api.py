"""The library: `Decomposer` sync and async, caching by content, results that validate."""

from __future__ import annotations

import asyncio
from pathlib import Path

from decompose import Decomposer, LLMSettings
from decompose.records import Decomposition
from decompose.schema import validate_decomposition
from decompose.sources import load_card
from tests.conftest import CARDS, EXCHANGES

STACK = CARDS / "the-stack-v2.md"


def test_decompose_returns_a_valid_dataset_decomposition(tmp_path: Path) -> None:
    with Decomposer(LLMSettings(replay_dir=EXCHANGES), cache_path=tmp_path / "c") as decomposer:
        result = decomposer.decompose(str(STACK))
    assert isinstance(result, Decomposition)
    validate_decomposition(result.model_dump(mode="json"))
    assert result.artifact.kind == "dataset"
    assert result.artifact.name == "The Stack v2"
    assert result.provenance.requests == 1
    assert result.provenance.prompt_tokens > 0
    assert result.provenance.mode == "tools"
    assert result.provenance.endpoint == "https://api.openai.com/v1"


def test_async_variant_gives_the_same_records(tmp_path: Path) -> None:
    settings = LLMSettings(replay_dir=EXCHANGES)

    async def both() -> list[Decomposition]:
        with Decomposer(settings, use_cache=False) as decomposer:
            return list(await asyncio.gather(decomposer.adecompose(str(STACK)), decomposer.adecompose(str(STACK))))

    first, second = asyncio.run(both())
    with Decomposer(settings, use_cache=False) as decomposer:
        sync = decomposer.decompose(str(STACK))
    assert first.capabilities == second.capabilities == sync.capabilities


def test_same_text_under_another_name_hits_the_cache_but_keeps_its_own_identity(tmp_path: Path) -> None:
    copy = tmp_path / "renamed-card.md"
    copy.write_bytes(STACK.read_bytes())
    with Decomposer(LLMSettings(replay_dir=EXCHANGES), cache_path=tmp_path / "c") as decomposer:
        original = decomposer.decompose(str(STACK))
    empty = tmp_path / "empty"
    empty.mkdir()
    with Decomposer(LLMSettings(replay_dir=empty), cache_path=tmp_path / "c") as decomposer:
        renamed = decomposer.decompose(str(copy))
    assert renamed.capabilities == original.capabilities
    assert renamed.artifact.id == "renamed-card"


def test_cache_key_changes_with_the_model_and_is_recorded_in_provenance(tmp_path: Path) -> None:
    card = load_card(str(STACK))
    with Decomposer(LLMSettings(replay_dir=EXCHANGES), cache_path=tmp_path / "c") as decomposer:
        result = decomposer.decompose(str(STACK))
        key = decomposer.cache_key(card)
    other = Decomposer(LLMSettings(replay_dir=EXCHANGES, model="gpt-4.1"), cache_path=tmp_path / "c")
    assert other.cache_key(card).digest != key.digest
    assert result.provenance.cache_key == key.digest
