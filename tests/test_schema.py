"""The JSON Schema we ship: its header, the contract's field names, and that jsonschema enforces it."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from decompose import records
from decompose.errors import DecomposeError
from decompose.records import CapabilityAnswer, Decomposition
from decompose.schema import (
    SCHEMA_VERSION,
    SchemaViolation,
    answer_schema,
    decomposition_schema,
    validate_answer,
    validate_decomposition,
)

CARD_TEXT = """---
license: apache-2.0
pipeline_tag: feature-extraction
---
# Qwen3-Embedding-4B

The Qwen3 Embedding model series is the latest proprietary model of the Qwen family, specifically
designed for text embedding and ranking tasks.

- Number of Parameters: 4B
- Context Length: 32k
- Embedding Dimension: Up to 2560, supports user-defined output dimensions ranging from 32 to 2560
- Supports 100+ languages, including various programming languages.
"""
QUOTE_DIMENSION = "Embedding Dimension: Up to 2560, supports user-defined output dimensions ranging from 32 to 2560"
QUOTE_LANGUAGES = "Supports 100+ languages, including various programming languages."
QUOTE_SERIES = "specifically\ndesigned for text embedding and ranking tasks"


def evidence(quote: str) -> dict[str, Any]:
    start = CARD_TEXT.index(quote)
    return {"quote": quote, "start": start, "end": start + len(quote), "match": "exact"}


def make_decomposition_data() -> dict[str, Any]:
    """A valid Decomposition as JSON data, with offsets that really index CARD_TEXT."""
    return {
        "schema_version": "1",
        "artifact": {
            "id": "Qwen/Qwen3-Embedding-4B",
            "kind": "model",
            "name": "Qwen3-Embedding-4B",
            "url": "https://huggingface.co/Qwen/Qwen3-Embedding-4B",
            "source_digest": "sha256:" + hashlib.sha256(CARD_TEXT.encode()).hexdigest(),
            "metadata": {"license": "apache-2.0", "pipeline_tag": "feature-extraction", "downloads": 123456, "likes": 210},
        },
        "capabilities": [
            {
                "id": "qwen3-embedding-4b/dense-text-embedding",
                "name": "dense text embedding",
                "description": (
                    "Maps text to a dense vector of up to 2560 dimensions for retrieval and clustering. "
                    "Callers may request a smaller output dimension, down to 32, to trade accuracy for storage."
                ),
                "unique": "Output dimension is user-defined anywhere from 32 to 2560 with one model.",
                "vs_alternatives": [
                    {
                        "alternative": "OpenAI text-embedding-3-large",
                        "comparison": "Runs locally under Apache-2.0, but needs a GPU to serve at a useful speed.",
                    }
                ],
                "category": "embedding",
                "intents": ["semantic search over documents"],
                "limitations": ["Larger than the 0.6B sibling, so slower on CPU."],
                "evidence": [evidence(QUOTE_DIMENSION), evidence(QUOTE_SERIES)],
                "grounding": "grounded",
                "problems": [],
            },
            {
                "id": "qwen3-embedding-4b/multilingual-retrieval",
                "name": "multilingual retrieval",
                "description": (
                    "Embeds queries and documents written in more than 100 natural languages and in "
                    "programming languages into one vector space, so a query in one language finds text in another."
                ),
                "unique": "Covers 100+ languages including code in a single embedding space.",
                "vs_alternatives": [
                    {"alternative": "multilingual-e5-large", "comparison": "Covers more languages and code, at a larger size."}
                ],
                "category": None,
                "intents": [],
                "limitations": [],
                "evidence": [evidence(QUOTE_LANGUAGES)],
                "grounding": "partial",
                "problems": [],
            },
        ],
        "provenance": {
            "model": "gpt-4.1-mini",
            "endpoint": "https://api.openai.com/v1",
            "mode": "tools",
            "prompt_version": "3f2a9c1b7d4e",
            "created_at": "2025-11-23T22:41:07+00:00",
            "requests": 2,
            "prompt_tokens": 4210,
            "completion_tokens": 1388,
            "cache_key": "0" * 64,
        },
    }


def make_decomposition() -> Decomposition:
    return Decomposition.model_validate(make_decomposition_data())


def make_answer_data() -> dict[str, Any]:
    """A valid LLM answer: the drafts behind `make_decomposition_data`'s capabilities."""
    drafts = []
    for capability in make_decomposition_data()["capabilities"]:
        draft = {k: capability[k] for k in ("name", "description", "unique", "vs_alternatives", "intents", "limitations")}
        draft["evidence"] = [item["quote"] for item in capability["evidence"]]
        draft["category"] = capability["category"] or ""
        drafts.append(draft)
    return {"capabilities": drafts}


DELETE = object()  # a `replaced` value meaning "remove the field"


def replaced(data: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """A deep copy of `data` with the value at `path` replaced (or deleted when value is DELETE)."""
    result = copy.deepcopy(data)
    target = result
    for part in path[:-1]:
        target = target[part]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return result


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` (`#/$defs/Name`) to its definition."""
    ref = node.get("$ref")
    return schema["$defs"][ref.removeprefix("#/$defs/")] if ref else node


def properties_at(schema: dict[str, Any], path: str) -> set[str]:
    """Property names of the object at a dotted path; `name[]` steps into an array's items."""
    node = schema
    for part in filter(None, path.split(".")):
        node = resolve(schema, node["properties"][part.removesuffix("[]")])
        if part.endswith("[]"):
            node = resolve(schema, node["items"])
    return set(node["properties"])


# -- the schema documents ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_schema", "file_name", "title"),
    [(decomposition_schema, "decomposition.json", "Decomposition"), (answer_schema, "answer.json", "CapabilityAnswer")],
)
def test_schema_header_declares_draft_2020_12(make_schema: Any, file_name: str, title: str) -> None:
    schema = make_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://decompose.dev/schema/v1/{file_name}"
    assert schema["title"] == title
    Draft202012Validator.check_schema(schema)


def test_decomposition_schema_has_the_contract_field_names() -> None:
    schema = decomposition_schema()
    assert properties_at(schema, "") == {"schema_version", "artifact", "capabilities", "provenance", "notes"}
    assert properties_at(schema, "artifact") == {"id", "kind", "name", "url", "source_digest", "metadata"}
    assert properties_at(schema, "capabilities[]") == {
        "id", "name", "description", "unique", "vs_alternatives", "category",
        "intents", "limitations", "evidence", "grounding", "problems",
    }  # fmt: skip
    assert properties_at(schema, "capabilities[].evidence[]") == {"quote", "start", "end", "match"}
    assert properties_at(schema, "capabilities[].vs_alternatives[]") == {"alternative", "comparison"}
    assert properties_at(schema, "provenance") == {
        "model", "endpoint", "mode", "prompt_version", "created_at",
        "requests", "prompt_tokens", "completion_tokens", "cache_key",
    }  # fmt: skip
    assert set(schema["required"]) == {"schema_version", "artifact", "capabilities", "provenance"}


def test_answer_schema_has_the_contract_field_names() -> None:
    schema = answer_schema()
    assert properties_at(schema, "") == {"capabilities"}
    assert properties_at(schema, "capabilities[]") == {
        "name", "description", "unique", "vs_alternatives", "evidence", "category", "intents", "limitations",
    }  # fmt: skip


def test_callers_cannot_mutate_the_cached_schemas() -> None:
    for make_schema in (decomposition_schema, answer_schema):
        schema = make_schema()
        schema["$defs"].clear()
        schema["title"] = "changed"
        assert make_schema()["$defs"] and make_schema()["title"] != "changed"


def test_schema_version_is_the_records_one() -> None:
    assert SCHEMA_VERSION == records.SCHEMA_VERSION == "1"


# -- jsonschema itself enforces the contract's bounds -------------------------------------------

CAP = ("capabilities", 0)
DECOMPOSITION_BOUNDS = [
    # (path, a value that must fail, a boundary value that must pass)
    (CAP + ("description",), "d" * 79, "d" * 80),
    (CAP + ("description",), "d" * 1201, "d" * 1200),
    (CAP + ("unique",), "u" * 29, "u" * 30),
    (CAP + ("unique",), "u" * 601, "u" * 600),
    (CAP + ("name",), "ab", "abc"),
    (CAP + ("name",), "n" * 81, "n" * 80),
    (CAP + ("evidence",), [], [evidence(QUOTE_LANGUAGES)]),
    (CAP + ("evidence",), [evidence(QUOTE_LANGUAGES)] * 21, [evidence(QUOTE_LANGUAGES)] * 20),
    (CAP + ("evidence", 0, "quote"), "7 chars", "8 chars!"),
    (CAP + ("evidence", 0, "start"), -3, 0),
    (CAP + ("vs_alternatives",), [], [{"alternative": "e5", "comparison": "smaller and faster"}]),
    (CAP + ("vs_alternatives",), [{"alternative": "e5", "comparison": "smaller and faster"}] * 5,
     [{"alternative": "e5", "comparison": "smaller and faster"}] * 4),
    (CAP + ("grounding",), "verified", "ungrounded"),
    (("schema_version",), "2", "1"),
    (("schema_version",), DELETE, "1"),
    (("artifact", "source_digest"), "sha256:" + "A" * 64, "sha256:" + "a" * 64),
    (("artifact", "source_digest"), "md5:" + "a" * 32, "sha256:" + "0" * 64),
    (("provenance", "requests"), -1, 0),
    (("provenance", "cache_key"), DELETE, "ab" * 32),
]


@pytest.mark.parametrize(("path", "bad", "good"), DECOMPOSITION_BOUNDS)
def test_jsonschema_enforces_decomposition_bounds(path: tuple[str | int, ...], bad: Any, good: Any) -> None:
    validator = Draft202012Validator(decomposition_schema())
    data = make_decomposition_data()
    assert validator.is_valid(replaced(data, path, good))
    assert not validator.is_valid(replaced(data, path, bad))


DRAFT = ("capabilities", 0)
ANSWER_BOUNDS = [
    (DRAFT + ("description",), "d" * 79, "d" * 80),
    (DRAFT + ("description",), "d" * 1201, "d" * 1200),
    (DRAFT + ("unique",), "u" * 29, "u" * 30),
    (DRAFT + ("unique",), "u" * 601, "u" * 600),
    (DRAFT + ("name",), "ab", "abc"),
    (DRAFT + ("name",), "n" * 81, "n" * 80),
    (DRAFT + ("evidence",), [], [QUOTE_LANGUAGES]),
    (DRAFT + ("evidence",), [QUOTE_LANGUAGES] * 6, [QUOTE_LANGUAGES] * 5),
    (DRAFT + ("evidence", 0), "7 chars", "8 chars!"),
    (DRAFT + ("evidence", 0), "q" * 401, "q" * 400),
    (DRAFT + ("vs_alternatives",), [], [{"alternative": "e5", "comparison": "smaller and faster"}]),
    (DRAFT + ("vs_alternatives",), [{"alternative": "e5", "comparison": "smaller and faster"}] * 5,
     [{"alternative": "e5", "comparison": "smaller and faster"}] * 4),
    (DRAFT + ("surprise",), "extra fields are refused", DELETE),
]


@pytest.mark.parametrize(("path", "bad", "good"), ANSWER_BOUNDS)
def test_jsonschema_enforces_answer_bounds(path: tuple[str | int, ...], bad: Any, good: Any) -> None:
    validator = Draft202012Validator(answer_schema())
    data = make_answer_data()
    if good is not DELETE:
        assert validator.is_valid(replaced(data, path, good))
    else:
        assert validator.is_valid(data)
    assert not validator.is_valid(replaced(data, path, bad))


def test_what_pydantic_dumps_is_valid_under_the_schemas() -> None:
    validate_decomposition(make_decomposition().model_dump(mode="json"))
    validate_answer(CapabilityAnswer.model_validate(make_answer_data()).model_dump(mode="json"))


# -- error messages ----------------------------------------------------------------------------


def violation(validate: Any, data: Any) -> str:
    with pytest.raises(SchemaViolation) as caught:
        validate(data)
    return str(caught.value)


def test_violation_names_the_json_path_and_reason() -> None:
    data = replaced(make_decomposition_data(), ("capabilities", 0, "evidence", 1, "start"), -3)
    assert violation(validate_decomposition, data) == "capabilities[0].evidence[1].start: -3 is less than the minimum of 0"


def test_violation_for_a_missing_field_names_its_parent() -> None:
    data = replaced(make_decomposition_data(), ("provenance", "cache_key"), DELETE)
    assert violation(validate_decomposition, data) == "provenance: 'cache_key' is a required property"
    assert violation(validate_decomposition, []) == "$: [] is not of type 'object'"


def test_violation_in_an_answer_names_the_path() -> None:
    data = replaced(make_answer_data(), ("capabilities", 1, "evidence", 0), "short")
    assert violation(validate_answer, data) == "capabilities[1].evidence[0]: 'short' is too short"


def test_first_error_is_chosen_by_path_deterministically() -> None:
    data = make_decomposition_data()
    data["capabilities"][1]["unique"] = "too short"
    data["capabilities"][0]["evidence"][0]["match"] = "maybe"
    data["provenance"]["requests"] = -1
    messages = {violation(validate_decomposition, data) for _ in range(3)}
    assert messages == {"capabilities[0].evidence[0].match: 'maybe' is not one of ['exact', 'normalized', 'fuzzy', 'none']"}


def test_violation_message_is_one_short_line_for_a_long_value() -> None:
    data = replaced(make_decomposition_data(), ("capabilities", 0, "description"), "line one\nline two " * 100)
    message = violation(validate_decomposition, data)
    assert "\n" not in message and len(message) < 150
    assert message.startswith("capabilities[0].description: 'line one\\nline two")
    assert message.endswith("(1800 chars) is too long")


def test_violation_is_a_decompose_error_with_path_and_reason() -> None:
    data = replaced(make_decomposition_data(), ("artifact", "kind"), "space")
    with pytest.raises(DecomposeError) as caught:
        validate_decomposition(data)
    assert isinstance(caught.value, SchemaViolation)
    assert (caught.value.path, caught.value.reason) == ("artifact.kind", "'space' is not one of ['model', 'dataset', 'other']")
