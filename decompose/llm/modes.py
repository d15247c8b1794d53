"""Which structured-output mode an endpoint gets, and the schema shape it can digest.

OpenAI takes tool calls with any JSON Schema. Local servers (vLLM, Ollama, llama.cpp, LM Studio)
accept a `response_format` JSON schema but turn it into a grammar, and their converters break on
`$ref`/`$defs`/`anyOf` -- then they return unconstrained text without saying so. So every request
except tool calls to OpenAI carries a flattened schema.

instructor is imported only when an instructor mode is asked for: a fully cached run never builds a
client and should not pay for importing it.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel

from decompose.errors import ConfigError

if TYPE_CHECKING:
    from instructor import Mode

MODE_NAMES: tuple[str, ...] = ("tools", "json_schema", "json", "md_json")
VALID_MODES: tuple[str, ...] = ("auto", *MODE_NAMES)
DEFS_PREFIX = "#/$defs/"

M = TypeVar("M", bound=BaseModel)


def is_openai_endpoint(base_url: str) -> bool:
    """OpenAI itself or Azure OpenAI: the endpoints whose tool calls take any JSON Schema."""
    host = (urlsplit(base_url).hostname or "").lower()
    return host == "api.openai.com" or host.endswith(".openai.azure.com")


def mode_name(mode: str, base_url: str) -> str:
    """Resolve `auto` to tools (OpenAI) or json_schema (everything else); check explicit names."""
    if mode == "auto":
        return "tools" if is_openai_endpoint(base_url) else "json_schema"
    if mode not in MODE_NAMES:
        raise ConfigError(f"unknown LLM mode {mode!r}; valid modes: {', '.join(VALID_MODES)}")
    return mode


def resolve_mode(mode: str, base_url: str) -> Mode:
    """The instructor mode for a settings mode name and an endpoint."""
    return instructor_mode(mode_name(mode, base_url))


def instructor_mode(name: str) -> Mode:
    """The instructor mode of a resolved mode name (one of MODE_NAMES)."""
    from instructor import Mode

    return {"tools": Mode.TOOLS, "json_schema": Mode.JSON_SCHEMA, "json": Mode.JSON, "md_json": Mode.MD_JSON}[name]


def needs_flat_schema(mode: str, base_url: str) -> bool:
    """Only tool calls to OpenAI may keep `$ref`/`anyOf`; every other combination is flattened."""
    return not (mode_name(mode, base_url) == "tools" and is_openai_endpoint(base_url))


def flatten_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Inline every `$defs` entry and resolve `anyOf`, so no `$ref`, `$defs` or `anyOf` remains.

    Raises ConfigError for what has no flat form (recursive models, unions of objects).
    """
    definitions: dict[str, Any] = schema.get("$defs", {})

    def inline(node: Any, expanding: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [inline(item, expanding) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return inline_reference(node, expanding)
        flat = {key: inline(value, expanding) for key, value in node.items() if key != "$defs"}
        if len(flat.get("allOf", ())) == 1:
            only = flat.pop("allOf")[0]
            flat = {**only, **flat}
        if "anyOf" in flat:
            flat = _merge_union(flat)
        return flat

    def inline_reference(node: dict[str, Any], expanding: tuple[str, ...]) -> Any:
        reference: str = node["$ref"]
        name = reference.removeprefix(DEFS_PREFIX)
        if not reference.startswith(DEFS_PREFIX) or name not in definitions:
            raise ConfigError(f"answer schema: cannot inline reference {reference!r}")
        if name in expanding:
            raise ConfigError(f"answer schema: {name} is recursive and cannot be flattened; use --mode tools")
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        return inline({**copy.deepcopy(definitions[name]), **siblings}, (*expanding, name))

    return inline(schema, ())


def _merge_union(node: dict[str, Any]) -> dict[str, Any]:
    """Turn `anyOf` into one schema: a lone branch inline, simple types as a `type` list."""
    rest = {key: value for key, value in node.items() if key != "anyOf"}
    branches: list[dict[str, Any]] = node["anyOf"]
    non_null = [branch for branch in branches if branch != {"type": "null"}]
    simple = all(set(branch) == {"type"} and isinstance(branch["type"], str) for branch in branches)
    if simple:
        return {**rest, "type": [branch["type"] for branch in branches]}
    if len(non_null) == 1:
        return {**non_null[0], **rest}
    raise ConfigError("answer schema: a union of objects cannot be flattened for this endpoint; use --mode tools")


@functools.cache
def wire_model(response_model: type[M]) -> type[M]:
    """A subclass of `response_model` whose JSON Schema is flattened.

    instructor 1.17 reads the schema it sends from `response_model.model_json_schema()` in every
    mode (directly for json/json_schema/md_json, via `generate_openai_schema` for tools), so
    overriding that one classmethod changes the request and nothing else. Parsing still runs the
    original model's validators. instructor asks for the schema on every request, so the default
    one is built once (which also fails at first use, not mid-request) and handed out as a fresh
    copy parsed from its JSON text (instructor may add to what it gets).
    """
    flat = json.dumps(flatten_schema(response_model.model_json_schema()))

    class Wire(response_model):  # type: ignore[valid-type,misc]
        @classmethod
        def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
            if args or kwargs:
                return flatten_schema(response_model.model_json_schema(*args, **kwargs))
            return json.loads(flat)  # a fresh copy, several times faster than copy.deepcopy

    Wire.__name__ = Wire.__qualname__ = response_model.__name__
    Wire.__doc__ = response_model.__doc__
    return Wire
