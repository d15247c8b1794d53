"""Long cards in parts, failed parts reported, one re-ask about ungrounded records, strict mode."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from decompose import Decomposer, LLMSettings
from decompose.cleaning import clean_card
from decompose.cleaning.chunks import estimate_tokens
from decompose.errors import LLMError
from decompose.extract import NothingGrounded, assemble_answer
from decompose.records import CapabilityAnswer, Decomposition
from decompose.sources import load_card
from decompose.store import Store
from tests.conftest import ANSWERS, CARDS
from tests.support.openai_server import OpenAIServer, Reply, answer, raw

QWEN = CARDS / "qwen3-embedding-4b.md"
FAITHFUL = json.loads((ANSWERS / "qwen3-embedding-4b.json").read_text())
UNFAITHFUL = json.loads((ANSWERS / "qwen3-embedding-4b.unfaithful.json").read_text())
SMALL_BUDGET = 1600  # the instructions and schema take about 1000 of it: the Qwen card needs several parts


def settings(server: OpenAIServer) -> LLMSettings:
    return LLMSettings(base_url=server.base_url, api_key="sk-test", transport_retries=0, backoff_initial=0.01)


def card_text_of(body: dict[str, Any]) -> str:
    user = body["messages"][1]["content"]
    return user[user.index("<card>\n") + len("<card>\n") : user.rindex("\n</card>")]


def records_in(text: str) -> dict[str, Any]:
    """The faithful records with a quote in this part, as a model reading only the part might give."""
    found = [record for record in FAITHFUL["capabilities"] if any(quote in text for quote in record["evidence"])]
    return {"capabilities": found}


def per_part(body: dict[str, Any]) -> Reply:
    return answer(records_in(card_text_of(body)))


def decompose(server: OpenAIServer, **options: Any) -> Decomposition:
    with Decomposer(settings(server), use_cache=False, **options) as decomposer:
        return decomposer.decompose(str(QWEN))


def test_a_long_card_is_asked_in_parts_and_the_same_records_merge() -> None:
    with OpenAIServer(responder=per_part) as server:
        result = decompose(server, max_input_tokens=SMALL_BUDGET)
    bodies = [request.body for request in server.requests]
    parts = len(bodies)
    assert parts > 2
    for number, body in enumerate(bodies, start=1):
        assert f"sent in {parts} parts and this is part {number}." in body["messages"][1]["content"]
        assert estimate_tokens(card_text_of(body)) <= SMALL_BUDGET - 900
    assert "\n# Qwen3-Embedding-4B\n" in card_text_of(bodies[0])
    assert all(card_text_of(body).startswith("# Qwen3-Embedding-4B\n") for body in bodies[1:])
    sent = "\n".join(card_text_of(body) for body in bodies)
    assert all(quote in sent for record in FAITHFUL["capabilities"] for quote in record["evidence"])
    assert sorted(c.name for c in result.capabilities) == sorted(c["name"] for c in FAITHFUL["capabilities"])
    assert {c.grounding for c in result.capabilities} == {"grounded"}
    by_name = {c.name: c for c in result.capabilities}
    for record in FAITHFUL["capabilities"]:
        assert sorted(e.quote for e in by_name[record["name"]].evidence) == sorted(set(record["evidence"]))
    assert result.notes == []
    assert result.provenance.requests == parts


def test_the_async_path_asks_the_same_parts_and_gives_the_same_records() -> None:
    with OpenAIServer(responder=per_part) as server:
        sync = decompose(server, max_input_tokens=SMALL_BUDGET)
        sync_bodies = sorted(json.dumps(request.body, sort_keys=True) for request in server.requests)

    async def run() -> Decomposition:
        with Decomposer(settings(server), use_cache=False, max_input_tokens=SMALL_BUDGET) as decomposer:
            return await decomposer.adecompose(str(QWEN))

    with OpenAIServer(responder=per_part) as server:
        result = asyncio.run(run())
        async_bodies = sorted(json.dumps(request.body, sort_keys=True) for request in server.requests)
    assert async_bodies == sync_bodies
    assert sorted(c.model_dump_json() for c in result.capabilities) == sorted(
        c.model_dump_json() for c in sync.capabilities
    )


def test_a_failed_part_is_reported_in_the_notes_and_the_result_is_not_cached(tmp_path: Path) -> None:
    def second_part_fails(body: dict[str, Any]) -> Reply:
        if "this is part 2." in body["messages"][1]["content"]:
            return raw("I cannot help with that part.")
        return per_part(body)

    cache = tmp_path / "cache.sqlite3"
    with OpenAIServer(responder=second_part_fails) as server:
        with Decomposer(settings(server), cache_path=cache, max_input_tokens=SMALL_BUDGET) as decomposer:
            result = decomposer.decompose(str(QWEN))
    assert len(result.notes) == 1
    assert result.notes[0].startswith("part 2 of ")
    assert "was not decomposed: answer failed validation after 2 attempts" in result.notes[0]
    assert result.capabilities
    assert Store(cache).entries() == []


def test_the_card_fails_only_when_every_part_failed() -> None:
    with OpenAIServer(responder=lambda body: raw("no")) as server, pytest.raises(LLMError) as raised:
        decompose(server, max_input_tokens=SMALL_BUDGET)
    assert "all " in str(raised.value) and "parts of the card failed" in str(raised.value)
    assert str(QWEN) in str(raised.value)


def expected_flagged() -> list[str]:
    card = load_card(str(QWEN))
    records = assemble_answer(card, CapabilityAnswer.model_validate(UNFAITHFUL)).capabilities
    return [record.name for record in records if record.grounding == "ungrounded"]


def fixed_dimension_record() -> dict[str, Any]:
    wrong = next(record for record in UNFAITHFUL["capabilities"] if record["name"] == "high-dimensional embedding")
    return {
        **wrong,
        "description": "Qwen3-Embedding-4B produces dense vectors of up to 2560 dimensions for every input text, "
        "which capture semantic distinctions for retrieval and clustering.",
        "unique": "Its output size can be chosen anywhere from 32 to 2560 dimensions.",
    }


def test_ungrounded_records_are_re_asked_once_with_only_their_problems() -> None:
    flagged = expected_flagged()
    assert "high-dimensional embedding" in flagged and len(flagged) >= 2
    with OpenAIServer([answer(UNFAITHFUL), answer({"capabilities": [fixed_dimension_record()]})]) as server:
        result = decompose(server)
    first, second = (request.body["messages"] for request in server.requests)
    assert len(server.requests) == 2
    assert second[:2] == first
    assert [message["role"] for message in second] == ["system", "user", "assistant", "user"]
    previous = json.loads(second[2]["content"])
    assert [record["name"] for record in previous["capabilities"]] == flagged
    problems = second[3]["content"]
    assert '"high-dimensional embedding": ' in problems and "states 4096 but no evidence quote contains it" in problems
    assert "multilingual and code retrieval" not in problems + second[2]["content"]
    records = {record.name: record for record in result.capabilities}
    assert records["high-dimensional embedding"].grounding == "grounded"
    assert "2560 dimensions" in records["high-dimensional embedding"].description
    assert records["large llm backbone"].grounding == "ungrounded"
    assert records["multilingual and code retrieval"].grounding == "grounded"
    assert result.provenance.requests == 2


def test_a_failed_re_ask_keeps_the_records_flagged_and_says_so(tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite3"
    with OpenAIServer([answer(UNFAITHFUL), raw("no"), raw("still no")]) as server:
        with Decomposer(settings(server), cache_path=cache) as decomposer:
            result = decomposer.decompose(str(QWEN))
    flagged = expected_flagged()
    assert [record.name for record in result.capabilities if record.grounding == "ungrounded"] == flagged
    assert len(result.notes) == 1 and result.notes[0].startswith(f"re-asking about {len(flagged)} ungrounded")
    assert Store(cache).entries() == []


def test_strict_drops_what_stays_ungrounded() -> None:
    with OpenAIServer([answer(UNFAITHFUL), answer({"capabilities": [fixed_dimension_record()]})]) as server:
        result = decompose(server, strict=True)
    assert {record.grounding for record in result.capabilities} <= {"grounded", "partial"}
    assert "high-dimensional embedding" in {record.name for record in result.capabilities}
    assert result.notes[-1].startswith("strict mode dropped ")
    assert '"large llm backbone"' in result.notes[-1]


def test_strict_fails_when_nothing_is_backed_by_the_card() -> None:
    flagged_only = {"capabilities": [r for r in UNFAITHFUL["capabilities"] if r["name"] in expected_flagged()]}
    with OpenAIServer([answer(flagged_only), answer(flagged_only)]) as server, pytest.raises(NothingGrounded):
        decompose(server, strict=True)


def test_strict_and_the_input_budget_are_part_of_the_cache_key() -> None:
    card = load_card(str(QWEN))
    keys = {
        Decomposer(LLMSettings(api_key="k"), **options).cache_key(card).digest
        for options in ({}, {"strict": True}, {"max_input_tokens": 4000})
    }
    assert len(keys) == 3


def test_every_part_holds_whole_sections_or_paragraphs() -> None:
    card = load_card(str(QWEN))
    cleaned = clean_card(card).text
    with OpenAIServer(responder=per_part) as server:
        decompose(server, max_input_tokens=SMALL_BUDGET)
    for request in server.requests:
        text = card_text_of(request.body)
        body = text.removeprefix("# Qwen3-Embedding-4B\n\n") if not text.startswith("---") else text
        assert body in cleaned


def test_a_spent_token_cap_ends_the_card_instead_of_skipping_parts() -> None:
    with OpenAIServer(responder=per_part) as server:
        decompose(server, max_input_tokens=SMALL_BUDGET)
    first = server.requests[0]
    first_part_tokens = first.size // 4 + len(json.dumps(records_in(card_text_of(first.body)))) // 4
    with OpenAIServer(responder=per_part) as server, pytest.raises(LLMError, match="token cap reached"):
        decompose(server, max_input_tokens=SMALL_BUDGET, max_tokens_per_card=first_part_tokens)
    assert len(server.requests) == 1  # the first part spent the cap exactly; the second is never sent
