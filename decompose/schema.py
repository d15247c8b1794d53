"""JSON Schema (Draft 2020-12) of the records, and `jsonschema` validation against it.

The schemas are derived from the pydantic models in `records.py`, so the models stay the one source
of truth (bounds included). Other tools validate our output with these files, so `jsonschema` (not
pydantic) is the referee here.

Every cached row is validated each time it is read, so the verdict comes from `SchemaVerdict`
(`schema_verdict.py`), which accepts exactly what the schema accepts in about half the time; a
document it rejects is checked again against the schema itself, whose first error is the message.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterable
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from decompose.errors import DecomposeError
from decompose.records import SCHEMA_VERSION, CapabilityAnswer, Decomposition
from decompose.schema_verdict import SchemaVerdict

__all__ = [
    "SCHEMA_VERSION",
    "SchemaViolation",
    "answer_schema",
    "decomposition_schema",
    "validate_answer",
    "validate_decomposition",
]

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_BASE_URL = f"https://decompose.dev/schema/v{SCHEMA_VERSION}"

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_SHOWN_VALUE = 60


class SchemaViolation(DecomposeError):
    """A document does not match the JSON Schema; the message names the JSON path and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def decomposition_schema() -> dict[str, Any]:
    """The schema of what we print and store; a fresh copy each call, safe to modify."""
    return copy.deepcopy(_decomposition_schema())


def answer_schema() -> dict[str, Any]:
    """The schema of the LLM's answer (`CapabilityAnswer`); a fresh copy each call."""
    return copy.deepcopy(_answer_schema())


def validate_decomposition(data: Any) -> None:
    """Raise `SchemaViolation` unless `data` is a valid v1 Decomposition document."""
    _validate(data, *_decomposition_validators())


def validate_answer(data: Any) -> None:
    """Raise `SchemaViolation` unless `data` is a valid LLM answer document."""
    _validate(data, *_answer_validators())


@functools.cache
def _decomposition_schema() -> dict[str, Any]:
    schema = Decomposition.model_json_schema()
    # A document without its version tag is not a v1 document, whatever pydantic's default says.
    schema["required"] = ["schema_version", *schema["required"]]
    return _with_header(schema, "decomposition.json")


@functools.cache
def _answer_schema() -> dict[str, Any]:
    schema = CapabilityAnswer.model_json_schema()
    return _with_header(schema, "answer.json")


@functools.cache
def _decomposition_validators() -> tuple[SchemaVerdict, Draft202012Validator]:
    """The fast verdict, and the schema's own validator for the message when the verdict is no."""
    schema = _decomposition_schema()
    return SchemaVerdict(schema), Draft202012Validator(schema)


@functools.cache
def _answer_validators() -> tuple[SchemaVerdict, Draft202012Validator]:
    schema = _answer_schema()
    return SchemaVerdict(schema), Draft202012Validator(schema)


def _validate(data: Any, verdict: SchemaVerdict, referee: Draft202012Validator) -> None:
    if not verdict.is_valid(data):
        _raise_first_error(referee.iter_errors(data))


def _with_header(schema: dict[str, Any], file_name: str) -> dict[str, Any]:
    """Put `$schema`, `$id` and `title` first, so the shipped file reads well."""
    header = {"$schema": DRAFT_2020_12, "$id": f"{SCHEMA_BASE_URL}/{file_name}", "title": schema["title"]}
    return {**header, **{k: v for k, v in schema.items() if k not in header}}


def _raise_first_error(errors: Iterable[ValidationError]) -> None:
    """Raise for the first error by JSON path, so the same document always gives the same message."""
    ordered = sorted(errors, key=_error_order)
    if not ordered:
        return
    at_first_path = [e for e in ordered if e.absolute_path == ordered[0].absolute_path]
    # best_match descends into anyOf branches: "-3 is less than the minimum of 0", not "not valid
    # under any of the given schemas".
    error = best_match(at_first_path) or ordered[0]
    raise SchemaViolation(_json_path(error.absolute_path), _reason(error))


def _error_order(error: ValidationError) -> tuple[Any, ...]:
    path = tuple((0, part, "") if isinstance(part, int) else (1, 0, str(part)) for part in error.absolute_path)
    return (path, str(error.validator), error.message)


def _json_path(parts: Iterable[str | int]) -> str:
    """Render a path as `capabilities[0].evidence[1].start`; `$` is the document itself."""
    rendered = ""
    for part in parts:
        if isinstance(part, int):
            rendered += f"[{part}]"
        elif _IDENTIFIER.match(part):
            rendered += f".{part}" if rendered else part
        else:
            rendered += f"[{json.dumps(part, ensure_ascii=False)}]"
    return rendered or "$"


def _reason(error: ValidationError) -> str:
    """jsonschema's message, with a long offending value shortened so the message stays readable."""
    shown = repr(error.instance)
    if len(shown) <= _MAX_SHOWN_VALUE or shown not in error.message:
        return error.message
    size = f"{len(error.instance)} chars" if isinstance(error.instance, str) else type(error.instance).__name__
    return error.message.replace(shown, f"{shown[: _MAX_SHOWN_VALUE - 20]}… ({size})")
