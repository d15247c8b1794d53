"""Re-checking capability records made by any tool against a card (`decompose check`).

Records come as a Decomposition (what `decompose card -f json` prints), as an object with a
`capabilities` list (the LLM answer's shape), or as a plain JSON list of records. A record needs
`name`, `description`, `unique` and `evidence` (a list of quotes, each a string or an object with a
`quote`); other fields are kept as given. Each record is grounded afresh against the card as fetched
now, and comes back in the shape it came in, with `evidence` (offsets and match), `grounding` and
`problems` replaced.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from pydantic import BaseModel, ConfigDict, ValidationError

from decompose.errors import InputError
from decompose.files import read_text_input
from decompose.grounding import CardIndex, ground
from decompose.records import Card, Decomposition, GroundingVerdict
from decompose.sources import MAX_CARD_BYTES, load_card

MIN_QUOTE, MAX_QUOTE = 8, 400


class _QuoteShape(BaseModel):
    model_config = ConfigDict(extra="allow")

    quote: str


class _RecordShape(BaseModel):
    """The least a record must carry to be checked."""

    model_config = ConfigDict(extra="allow")

    name: str
    description: str
    unique: str
    evidence: list[str | _QuoteShape]


@dataclass(frozen=True)
class _Claim:
    description: str
    unique: str
    evidence: Sequence[str]


@dataclass(frozen=True)
class RecordSet:
    """Records read from a file, and the container they came in, so output keeps the input's shape."""

    origin: str
    records: list[dict[str, Any]]
    decomposition: Decomposition | None = None
    wrapped: dict[str, Any] | None = None  # an object with a `capabilities` list, other keys kept


@dataclass(frozen=True)
class CheckedRecord:
    name: str
    verdict: GroundingVerdict
    problems: list[str]
    record: dict[str, Any]


@dataclass(frozen=True)
class CheckReport:
    subject: str
    records: list[CheckedRecord]
    document: Any
    notes: list[str]

    @property
    def any_ungrounded(self) -> bool:
        return any(record.verdict == "ungrounded" for record in self.records)


def read_records(path: str, *, stdin: BinaryIO | None = None) -> RecordSet:
    """Parse and shape-check a records file (`-` reads stdin); InputError names the file and the problem."""
    origin = "stdin" if path == "-" else path
    text = read_text_input(path, what="records file", hint="give a JSON file of records", stdin=stdin)
    data = _parse_json(text, origin)
    if isinstance(data, dict) and "artifact" in data and "capabilities" in data:
        try:
            decomposition = Decomposition.model_validate(data)
        except ValidationError as error:
            raise InputError(f"{origin}: not a valid Decomposition: {_first_error(error)}") from None
        records = [capability.model_dump(mode="json") for capability in decomposition.capabilities]
        return RecordSet(origin, _shaped(records, origin), decomposition=decomposition)
    if isinstance(data, dict) and isinstance(data.get("capabilities"), list):
        return RecordSet(origin, _shaped(data["capabilities"], origin), wrapped=data)
    if isinstance(data, list):
        return RecordSet(origin, _shaped(data, origin))
    raise InputError(
        f"{origin}: expected a Decomposition, an object with a 'capabilities' list, or a list of records"
    )


def check_records(record_set: RecordSet, card: Card, *, subject: str | None = None) -> CheckReport:
    """Ground every record against `card`.

    The subject defaults to the Decomposition's artifact, else the card's name.
    """
    decomposition = record_set.decomposition
    subject = subject or (decomposition.artifact.name if decomposition else card.name)
    index = CardIndex(card.text)
    checked = [_check_one(record, card, index, subject) for record in record_set.records]
    notes = []
    if decomposition is not None and decomposition.artifact.source_digest != card.digest:
        notes.append(
            f"the card differs from the one {record_set.origin} was made from (digest "
            f"{decomposition.artifact.source_digest[:19]}… vs {card.digest[:19]}…); "
            "checked against the card as fetched now"
        )
    return CheckReport(subject, checked, _document(record_set, checked), notes)


def check_file(
    records_path: str,
    source: str,
    *,
    subject: str | None = None,
    stdin: BinaryIO | None = None,
    timeout: float = 30.0,
    max_bytes: int = MAX_CARD_BYTES,
    allow_private_urls: bool = False,
) -> CheckReport:
    """Read the records, fetch the card (any SOURCE form `decompose card` takes, within the same
    bounds: see `load_card`), check them."""
    if records_path == "-" and source == "-":
        raise InputError("the records and the card cannot both come from stdin; give one of them as a file")
    record_set = read_records(records_path, stdin=stdin)
    card = load_card(source, stdin=stdin, timeout=timeout, max_bytes=max_bytes, allow_private_urls=allow_private_urls)
    return check_records(record_set, card, subject=subject)


def _check_one(record: dict[str, Any], card: Card, index: CardIndex, subject: str) -> CheckedRecord:
    quotes = [item if isinstance(item, str) else item["quote"] for item in record["evidence"]]
    usable = [quote for quote in quotes if MIN_QUOTE <= len(quote) <= MAX_QUOTE]
    problems = [
        f"quote of {len(quote)} characters is outside the {MIN_QUOTE}-{MAX_QUOTE} the contract allows: "
        f'"{" ".join(quote.split())[:60]}"'
        for quote in quotes
        if quote not in usable
    ]
    grounded = ground(card.text, _Claim(record["description"], record["unique"], usable), index, subject=subject)
    found = iter(grounded.evidence)
    evidence = [
        next(found).model_dump(mode="json")
        if quote in usable
        else {"quote": quote, "start": None, "end": None, "match": "none"}
        for quote in quotes
    ]
    if problems and not usable:
        problems += [problem for problem in grounded.problems if problem != "the record has no evidence quote"]
    else:
        problems += grounded.problems
    verdict: GroundingVerdict = "ungrounded" if len(usable) < len(quotes) else grounded.verdict
    updated = {**record, "evidence": evidence, "grounding": verdict, "problems": problems}
    return CheckedRecord(record["name"], verdict, problems, updated)


def _document(record_set: RecordSet, checked: list[CheckedRecord]) -> Any:
    records = [item.record for item in checked]
    if record_set.decomposition is not None:
        return {**record_set.decomposition.model_dump(mode="json"), "capabilities": records}
    if record_set.wrapped is not None:
        return {**record_set.wrapped, "capabilities": records}
    return records


def _parse_json(text: str, origin: str) -> Any:
    if not text.strip():
        raise InputError(f"{origin} is empty; give a JSON file of records")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        raise InputError(f"{origin} is not valid JSON: {error.msg} at {where}") from None


def _shaped(records: list[Any], origin: str) -> list[dict[str, Any]]:
    if not records:
        raise InputError(f"{origin} holds no records; nothing to check")
    for number, record in enumerate(records, start=1):
        try:
            _RecordShape.model_validate(record)
        except ValidationError as error:
            name = record.get("name") if isinstance(record, dict) else None
            label = f"record {number}" + (f" ({name})" if isinstance(name, str) else "")
            raise InputError(f"{origin}: {label}: {_first_error(error)}") from None
    return records


def _first_error(error: ValidationError) -> str:
    """pydantic's first error as `path: message`, e.g. `evidence[0]: Input should be a valid string`."""
    first = error.errors(include_url=False)[0]
    location = [part for part in first["loc"] if part not in ("str", "_QuoteShape")]
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    message = first["msg"]
    if location[:1] == ["evidence"] and len(location) == 2:
        message = "each quote must be a string or an object with a 'quote' string"
    return f"{path}: {message}" if path else message
