"""`StructuredLLM` against the scripted server, with the real openai client and instructor:
every mode, the request it sends, answer cleaning, re-asks, usage, refusals and truncation."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import httpx2
import pytest

from decompose.errors import LLMError
from decompose.llm import LLMSettings, StructuredLLM
from decompose.records import CapabilityAnswer
from tests.support.openai_server import OpenAIServer, answer, raw, refusal

VALID = {
    "capabilities": [
        {
            "name": "Dense Text Embedding",
            "description": "Maps text to 2560-dimensional vectors with the last token's hidden state, "
            "so semantically similar passages land close together.",
            "unique": "Instruction-aware embeddings at 4B parameters.",
            "vs_alternatives": [{"alternative": "OpenAI text-embedding-3-large", "comparison": "local and free"}],
            "evidence": ["Embedding Dimension: Up to 2560"],
        }
    ]
}
INVALID = {"capabilities": [{"name": "x", "description": "too short"}]}
MESSAGES = [
    {"role": "system", "content": "You decompose model cards."},
    {"role": "user", "content": "Card:\nQwen3-Embedding-4B ... Embedding Dimension: Up to 2560"},
]


def llm_for(server: OpenAIServer, **overrides: Any) -> StructuredLLM:
    options: dict[str, Any] = {
        "base_url": server.base_url,
        "api_key": "test-key",
        "timeout": 5.0,
        "backoff_initial": 0.001,
        "backoff_max": 0.01,
        **overrides,
    }
    return StructuredLLM(LLMSettings(**options))


@pytest.mark.parametrize("mode", ["tools", "json_schema", "json", "md_json"])
def test_each_mode_returns_a_validated_answer_without_refs(mode: str) -> None:
    with OpenAIServer([answer(VALID)]) as server, llm_for(server, mode=mode) as llm:
        result = llm.ask(MESSAGES, CapabilityAnswer)
    assert type(result.value) is CapabilityAnswer
    assert result.value == CapabilityAnswer.model_validate(VALID)
    assert result.value.capabilities[0].name == "dense text embedding"
    body = json.dumps(server.requests[0].body)  # json/md_json carry the schema inside a message
    assert "$ref" not in body and "$defs" not in body and "anyOf" not in body
    assert "Verbatim quotes" in body  # the schema was sent, flattened
    assert ("tools" in server.requests[0].body) is (mode == "tools")


def test_auto_on_a_local_server_sends_a_json_schema_response_format() -> None:
    with OpenAIServer([answer(VALID)]) as server, llm_for(server) as llm:
        llm.ask(MESSAGES, CapabilityAnswer)
        assert llm.mode == "json_schema"
    body = server.requests[0].body
    assert body["response_format"]["type"] == "json_schema"
    assert body["max_tokens"] == 4096 and body["temperature"] == 0.0 and body["model"] == "gpt-4o-mini"


def test_tool_calls_to_openai_keep_the_full_schema() -> None:
    sent: list[dict[str, Any]] = []

    def openai_api(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        sent.append(body)
        call = {"id": "c", "type": "function", "function": {"name": "CapabilityAnswer", "arguments": json.dumps(VALID)}}
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
        choice = {"index": 0, "finish_reason": "stop", "message": message}
        return httpx2.Response(
            200, json={"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": [choice]}
        )

    settings = LLMSettings(api_key="test-key", seed=3)
    with StructuredLLM(settings, transport=httpx2.MockTransport(openai_api)) as llm:
        assert llm.mode == "tools"
        result = llm.ask(MESSAGES, CapabilityAnswer)
    assert result.value == CapabilityAnswer.model_validate(VALID)
    assert '"$ref"' in json.dumps(sent[0]["tools"])
    assert sent[0]["max_completion_tokens"] == 4096 and sent[0]["seed"] == 3
    assert result.usage.requests == 1 and result.usage.prompt_tokens == 0  # no usage reported


@pytest.mark.parametrize("mode", ["json", "md_json", "json_schema"])
def test_reasoning_and_fences_are_stripped_before_parsing(mode: str) -> None:
    text = (
        "<think>The card mentions {2560} dims; the JSON should be {\"capabilities\": []}.</think>\n"
        f"Here is the answer:\n```json\n{json.dumps(VALID, indent=2)}\n```\nAnything else?"
    )
    with OpenAIServer([raw(text)]) as server, llm_for(server, mode=mode) as llm:
        result = llm.ask(MESSAGES, CapabilityAnswer)
    assert result.value == CapabilityAnswer.model_validate(VALID)
    assert len(server.requests) == 1


@pytest.mark.parametrize("mode", ["json_schema", "tools", "json", "md_json"])
def test_invalid_answer_is_reasked_once_with_the_last_answer_and_its_error(mode: str) -> None:
    caller_messages = copy.deepcopy(MESSAGES)
    with OpenAIServer([answer(INVALID), answer(VALID)]) as server, llm_for(server, mode=mode) as llm:
        result = llm.ask(caller_messages, CapabilityAnswer)
    assert result.value == CapabilityAnswer.model_validate(VALID)
    assert caller_messages == MESSAGES  # instructor edits messages in json modes: never the caller's
    assert len(server.requests) == 2
    second = server.requests[1].body["messages"]
    assert {"role": "assistant", "content": json.dumps(INVALID)} in second
    sent = json.dumps(second)
    assert "capabilities.0.description: String should have at least 80 characters" in sent  # instructor #1736
    assert "errors.pydantic.dev" not in sent


@pytest.mark.parametrize("mode", ["json_schema", "tools"])
def test_reask_is_the_original_messages_plus_answer_plus_error(mode: str) -> None:
    with OpenAIServer([answer(INVALID), answer(VALID)]) as server, llm_for(server, mode=mode) as llm:
        llm.ask(MESSAGES, CapabilityAnswer)
    first, second = (request.body["messages"] for request in server.requests)
    assert first == MESSAGES
    assert second[:-2] == MESSAGES
    assert second[-2] == {"role": "assistant", "content": json.dumps(INVALID)}
    assert second[-1]["role"] == "user"
    expected_start = "Your previous answer was not valid:\n5 validation errors for CapabilityAnswer:"
    assert second[-1]["content"].startswith(expected_start)


def test_reask_request_grows_by_the_last_answer_and_error_only() -> None:
    with OpenAIServer([answer(INVALID), answer(INVALID), answer(VALID)]) as server:
        with llm_for(server, max_reasks=2) as llm:
            llm.ask(MESSAGES, CapabilityAnswer)
    sizes = [request.size for request in server.requests]
    for request in server.requests[1:]:
        assert len(request.body["messages"]) == len(MESSAGES) + 2  # never the whole history
    growth_allowed = len(json.dumps(INVALID)) + len(server.requests[1].body["messages"][-1]["content"]) + 200
    assert sizes[1] <= sizes[0] + growth_allowed
    assert sizes[2] <= sizes[0] + growth_allowed  # the third carries one answer too, not two


def test_usage_counts_every_request_including_failed_attempts() -> None:
    with OpenAIServer([answer(INVALID), answer(VALID)]) as server, llm_for(server) as llm:
        result = llm.ask(MESSAGES, CapabilityAnswer)
    requests = server.requests
    assert result.usage.requests == 2
    assert result.usage.prompt_tokens == sum(request.size // 4 for request in requests)
    assert result.usage.completion_tokens == len(json.dumps(INVALID)) // 4 + len(json.dumps(VALID)) // 4


def test_reasks_are_bounded_and_end_in_a_clear_error() -> None:
    with OpenAIServer([answer(INVALID), raw('{"capabilities": [')]) as server:
        with llm_for(server, max_reasks=1) as llm, pytest.raises(LLMError) as caught:
            llm.ask(MESSAGES, CapabilityAnswer, step="extract")
    message = str(caught.value)
    assert message.startswith("extract: answer failed validation after 2 attempts:")
    assert "Invalid JSON" in message and "\n" not in message and "errors.pydantic.dev" not in message
    assert len(server.requests) == 2


def test_truncated_answer_is_not_reasked() -> None:
    with OpenAIServer([raw('{"capabilities": [{"name": "dense', finish_reason="length")]) as server:
        with llm_for(server, max_output_tokens=64, max_reasks=3) as llm, pytest.raises(LLMError) as caught:
            llm.ask(MESSAGES, CapabilityAnswer)
    assert "truncated at max_output_tokens=64" in str(caught.value)
    assert "--max-output-tokens" in str(caught.value)
    assert len(server.requests) == 1


@pytest.mark.parametrize("mode", ["json_schema", "tools"])
def test_refusal_is_reported_not_reasked(mode: str) -> None:
    with OpenAIServer([refusal("I can't help with that.")]) as server:
        with llm_for(server, mode=mode, max_reasks=3) as llm, pytest.raises(LLMError) as caught:
            llm.ask(MESSAGES, CapabilityAnswer, step="extract")
    assert str(caught.value) == "extract: the model refused to answer: I can't help with that."
    assert len(server.requests) == 1


def test_aask_reasks_and_counts_usage_like_ask() -> None:
    async def run(llm: StructuredLLM) -> Any:
        async with llm:
            return await llm.aask(MESSAGES, CapabilityAnswer)

    with OpenAIServer([answer(INVALID), answer(VALID)]) as server:
        result = asyncio.run(run(llm_for(server)))
    assert result.value == CapabilityAnswer.model_validate(VALID)
    assert result.usage.requests == 2
    assert server.requests[1].body["messages"][-2] == {"role": "assistant", "content": json.dumps(INVALID)}


def test_aask_works_across_event_loops() -> None:
    async def run(llm: StructuredLLM) -> Any:
        result = await llm.aask(MESSAGES, CapabilityAnswer)
        await llm.aclose()
        return result

    with OpenAIServer([answer(VALID), answer(VALID)]) as server:
        llm = llm_for(server)
        first = asyncio.run(run(llm))
        second = asyncio.run(run(llm))  # the first loop and its client are closed by now
    assert first.value == second.value == CapabilityAnswer.model_validate(VALID)
