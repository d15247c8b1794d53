"""A fast yes/no from `jsonschema` for documents checked again and again against one fixed schema.

Every cached row is validated each time it is read. jsonschema pays for every subschema it descends
into (a new validator object and a referencing scope each time), for every keyword in it and for
every reference it resolves; a cached Decomposition of three records takes about 100 descents.
`SchemaVerdict` says whether a document is valid exactly as jsonschema says it against the original
schema, in about half the time:

- it validates against a working copy of the schema: every `$ref` inlined; the annotation keywords
  (`title`, `description`, ...) left out; a nullable `anyOf` (`[{"type": "integer", "minimum": 0},
  {"type": "null"}]`) made one subschema with a type list, when its other keywords only constrain
  instances of that type (so null passes them, as it passed its own branch);
- its `properties` and `items` keywords apply a leaf subschema (only keywords that look at the one
  value: type, lengths, pattern, enum, const, bounds) to the value with jsonschema's own keyword
  functions, instead of descending into it; those functions read nothing of the validator but its
  type checker, which is the same.

It does not say why a document is invalid: the original schema's errors say that.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

_KEYWORDS = Draft202012Validator.VALIDATORS
_ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "$comment", "deprecated", "readOnly", "writeOnly"}
)
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "dependentSchemas"})
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SCHEMAS = frozenset(
    {"items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
     "unevaluatedItems", "unevaluatedProperties"}
)
# Keywords that every instance not of the type they constrain passes, null included.
_TYPE_SPECIFIC = frozenset(
    {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
     "minLength", "maxLength", "pattern", "format",
     "items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains", "minContains", "maxContains",
     "properties", "patternProperties", "additionalProperties", "required", "minProperties", "maxProperties",
     "propertyNames", "dependentRequired", "dependentSchemas"}
)
# Keywords that look at the one value they are applied to and nothing else.
_LEAF = frozenset(
    {"type", "minLength", "maxLength", "pattern", "enum", "const", "minimum", "maximum", "exclusiveMinimum",
     "exclusiveMaximum", "multipleOf"}
)
_NULL = {"type": "null"}
_INVALID = "invalid (ask the original schema why)"


class SchemaVerdict:
    """Whether documents are valid against `schema`, answered as jsonschema answers it, faster."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self._validator = _LeafInPlace(working_copy(schema))

    def is_valid(self, document: Any) -> bool:
        return bool(self._validator.is_valid(document))


def working_copy(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` rewritten to accept exactly the same documents with less work (see the module docstring).

    A reference with sibling keywords becomes an `allOf` entry beside them, as 2020-12 reads it; a
    recursive reference stays a reference, resolved through the `$defs` kept at the root.
    """
    definitions: dict[str, Any] = schema.get("$defs", {})

    def walk(node: Any, expanding: tuple[str, ...]) -> Any:
        if not isinstance(node, dict):
            return node
        copied: dict[str, Any] = {}
        for keyword, value in node.items():
            if keyword in _ANNOTATIONS:
                continue
            if keyword in _SCHEMA_MAPS:
                copied[keyword] = {name: walk(sub, expanding) for name, sub in value.items()}
            elif keyword in _SCHEMA_LISTS:
                copied[keyword] = [walk(sub, expanding) for sub in value]
            elif keyword in _SCHEMAS:
                copied[keyword] = walk(value, expanding)
            else:
                copied[keyword] = value
        if "anyOf" in copied:
            copied = _merge_nullable(copied)
        if "$ref" not in copied:
            return copied
        name = str(copied["$ref"]).removeprefix("#/$defs/")
        if name not in definitions or name in expanding:
            return copied
        del copied["$ref"]
        target = walk(definitions[name], (*expanding, name))
        return {**copied, "allOf": [*copied.get("allOf", []), target]} if copied else target

    return walk(schema, ())  # type: ignore[no-any-return]


def _merge_nullable(node: dict[str, Any]) -> dict[str, Any]:
    """`anyOf: [{"type": T, ...}, {"type": "null"}]` as `{"type": [T, "null"], ...}` where that is the same."""
    branches = node["anyOf"]
    if len(branches) != 2 or _NULL not in branches:
        return node
    other = branches[1 - branches.index(_NULL)]
    kind = other.get("type") if isinstance(other, dict) else None
    if not isinstance(kind, str) or kind == "null" or not set(other) - {"type"} <= _TYPE_SPECIFIC:
        return node
    rest = {key: value for key, value in node.items() if key != "anyOf"}
    if set(rest) & set(other):
        return node
    return {**rest, **other, "type": [kind, "null"]}


def _is_leaf(subschema: Any) -> bool:
    return isinstance(subschema, dict) and subschema.keys() <= _LEAF


def _leaf_fails(validator: Any, subschema: dict[str, Any], instance: Any) -> bool:
    for keyword, value in subschema.items():
        for _ in _KEYWORDS[keyword](validator, value, instance, subschema) or ():
            return True
    return False


def _properties(validator: Any, properties: dict[str, Any], instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for name, subschema in properties.items():
        if name not in instance:
            continue
        if not _is_leaf(subschema):
            yield from validator.descend(instance[name], subschema, path=name, schema_path=name)
        elif _leaf_fails(validator, subschema, instance[name]):
            yield ValidationError(_INVALID)


def _items(validator: Any, items: Any, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    if not _is_leaf(items) or "prefixItems" in schema or not validator.is_type(instance, "array"):
        yield from _KEYWORDS["items"](validator, items, instance, schema)
    elif any(_leaf_fails(validator, items, item) for item in instance):
        yield ValidationError(_INVALID)


_LeafInPlace = validators.extend(Draft202012Validator, {"properties": _properties, "items": _items})
