"""Settings, mode choice, schema flattening and answer cleaning: the parts that need no server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from instructor import Mode
from pydantic import BaseModel, ValidationError

from decompose.errors import ConfigError
from decompose.llm import (
    LLMSettings,
    StructuredLLM,
    Usage,
    flatten_schema,
    resolve_endpoint,
    resolve_mode,
    resolve_mode_name,
)
from decompose.llm.modes import wire_model
from decompose.llm.parsing import describe_for_model, describe_for_user, extract_json_text
from decompose.records import CapabilityAnswer

ANSWER_JSON = '{"capabilities": [{"name": "dense text embedding"}]}'


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def test_repr_never_shows_the_key() -> None:
    settings = LLMSettings(api_key="sk-very-secret")
    assert "sk-very-secret" not in repr(settings)
    assert settings.api_key == "sk-very-secret"


def test_key_and_base_url_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:11434/v1/")
    settings = LLMSettings()
    assert settings.require_api_key() == "sk-from-env"
    assert settings.base_url == "http://localhost:11434/v1"
    assert LLMSettings(base_url="http://other:8000/v1").base_url == "http://other:8000/v1"


def test_default_endpoint_is_openai() -> None:
    assert LLMSettings(api_key="k").base_url == "https://api.openai.com/v1"


def test_missing_key_is_reported_when_a_client_is_built() -> None:
    settings = LLMSettings()  # a fully cached run needs no key
    with pytest.raises(ConfigError) as caught:
        StructuredLLM(settings)
    assert str(caught.value) == "no API key: set OPENAI_API_KEY, or pass --replay DIR to run from recorded exchanges"


def test_replay_uses_a_placeholder_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real")
    settings = LLMSettings(replay_dir=tmp_path)
    assert settings.require_api_key() != "sk-real"


def test_unknown_mode_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="auto, tools, json_schema, json, md_json"):
        LLMSettings(api_key="k", mode="grammar")


def test_replay_and_record_exclude_each_other(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="exclude"):
        LLMSettings(replay_dir=tmp_path, record_dir=tmp_path)


def test_bad_numbers_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="timeout"):
        LLMSettings(api_key="k", timeout=0)


def test_generation_params_name_everything_that_changes_an_answer() -> None:
    settings = LLMSettings(api_key="k", temperature=0.3, seed=7, max_output_tokens=99, max_reasks=2)
    assert settings.generation_params() == {"temperature": 0.3, "seed": 7, "max_output_tokens": 99, "max_reasks": 2}
    assert StructuredLLM(settings).generation_params() == settings.generation_params()


def test_endpoint_drops_credentials_and_query() -> None:
    settings = LLMSettings(api_key="k", base_url="http://user:secret@gpu-box:8080/v1?api-key=abc")
    assert resolve_endpoint(settings) == "http://gpu-box:8080/v1"
    assert StructuredLLM(settings).endpoint == "http://gpu-box:8080/v1"


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://api.openai.com/v1", Mode.TOOLS),
        ("https://myco.openai.azure.com/openai", Mode.TOOLS),
        ("http://127.0.0.1:8000/v1", Mode.JSON_SCHEMA),
        ("http://localhost:11434/v1", Mode.JSON_SCHEMA),
    ],
)
def test_auto_mode_depends_on_the_endpoint(base_url: str, expected: Mode) -> None:
    assert resolve_mode("auto", base_url) is expected


def test_explicit_modes_map_to_instructor_modes() -> None:
    local = "http://127.0.0.1:8000/v1"
    assert [resolve_mode(name, local) for name in ("tools", "json_schema", "json", "md_json")] == [
        Mode.TOOLS,
        Mode.JSON_SCHEMA,
        Mode.JSON,
        Mode.MD_JSON,
    ]
    assert resolve_mode_name(LLMSettings(api_key="k", base_url=local)) == "json_schema"
    assert StructuredLLM(LLMSettings(api_key="k")).mode == "tools"


def test_flattened_answer_schema_has_no_refs_defs_or_unions() -> None:
    flat = json.dumps(wire_model(CapabilityAnswer).model_json_schema())
    assert '"$ref"' in json.dumps(CapabilityAnswer.model_json_schema())
    for keyword in ('"$ref"', '"$defs"', '"anyOf"'):
        assert keyword not in flat
    assert "Verbatim quotes" in flat  # nested definitions were inlined, not dropped


class _Leaf(BaseModel):
    size: int | None = None
    label: str


class _Holder(BaseModel):
    leaf: _Leaf | None = None
    count: int | str


def test_optional_fields_and_simple_unions_flatten() -> None:
    flat = flatten_schema(_Holder.model_json_schema())
    text = json.dumps(flat)
    assert "anyOf" not in text and "$ref" not in text
    assert flat["properties"]["count"]["type"] == ["integer", "string"]
    assert flat["properties"]["leaf"]["properties"]["size"]["type"] == ["integer", "null"]


class _Tree(BaseModel):
    children: list[_Tree] = []


def test_recursive_models_cannot_be_flattened() -> None:
    with pytest.raises(ConfigError, match="recursive"):
        flatten_schema(_Tree.model_json_schema())


@pytest.mark.parametrize(
    "text",
    [
        ANSWER_JSON,
        f"<think>The card says {{maybe}} it embeds.</think>\n{ANSWER_JSON}",
        f"<think>plan</think>Here is the JSON:\n```json\n{ANSWER_JSON}\n```\nHope that helps!",
        f"Sure! {ANSWER_JSON} Let me know.",
        f"reasoning without an opening tag</think>\n```\n{ANSWER_JSON}\n```",
    ],
)
def test_json_is_extracted_from_wrapped_answers(text: str) -> None:
    assert json.loads(extract_json_text(text)) == json.loads(ANSWER_JSON)


def test_unparseable_text_is_returned_for_the_validator_to_report() -> None:
    assert extract_json_text("I cannot do that.") == "I cannot do that."
    assert extract_json_text('<think>x</think>{"capabilities": [') == '{"capabilities": ['


def test_validation_errors_are_rendered_without_pydantic_urls() -> None:
    with pytest.raises(ValidationError) as caught:
        CapabilityAnswer.model_validate_json('{"capabilities": [{"name": "x"}]}')
    assert "errors.pydantic.dev" in str(caught.value)
    for rendered in (describe_for_model(caught.value), describe_for_user(caught.value)):
        assert "errors.pydantic.dev" not in rendered
        assert "capabilities.0.description: Field required" in rendered
    assert "\n" not in describe_for_user(caught.value)


def test_usage_adds_up() -> None:
    parts = [Usage(1, 100, 10), Usage(2, 50, 5)]
    assert parts[0] + parts[1] == Usage(3, 150, 15)
    assert sum(parts) == Usage(3, 150, 15)
