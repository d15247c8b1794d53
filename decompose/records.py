"""The schema contract (v1): what the LLM returns, what we store and print, and the Card we read.

Every other module takes these types; none defines a rival shape. Field names are a public
contract other tools depend on (see ../shared/DESIGN.md): add, never rename.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SCHEMA_VERSION = "1"

ArtifactKind = Literal["model", "dataset", "other"]
MatchKind = Literal["exact", "normalized", "fuzzy", "none"]
GroundingVerdict = Literal["grounded", "partial", "ungrounded"]

Quote = Annotated[str, Field(min_length=8, max_length=400)]
CapabilityName = Annotated[str, Field(min_length=3, max_length=80)]
Description = Annotated[str, Field(min_length=80, max_length=1200)]
Unique = Annotated[str, Field(min_length=30, max_length=600)]
MAX_MERGED_EVIDENCE = 20
"""A stored record may join the quotes of drafts merged as the same capability (5 each at most)."""


class Alternative(BaseModel):
    """A named alternative and the trade-off against it, in the artifact's own framing."""

    model_config = ConfigDict(extra="forbid")

    alternative: str = Field(min_length=2, max_length=120, description="Name of another product or method.")
    comparison: str = Field(
        min_length=10, max_length=600, description="How this artifact compares with it, and the trade-off."
    )


class CapabilityDraft(BaseModel):
    """One capability of the artifact, stated only as far as the card supports it."""

    model_config = ConfigDict(extra="forbid")

    name: CapabilityName = Field(description="Short lower-case noun phrase.")
    description: Description = Field(description="How the capability works, in 2-4 sentences.")
    unique: Unique = Field(description="What sets it apart.")
    vs_alternatives: list[Alternative] = Field(min_length=1, max_length=4)
    evidence: list[Quote] = Field(
        min_length=1,
        max_length=5,
        description="Verbatim quotes copied from the card that support the description and unique.",
    )
    category: str = Field(default="", max_length=60, description="Optional category, e.g. embedding.")
    intents: list[str] = Field(default_factory=list, max_length=8, description="User needs it serves.")
    limitations: list[str] = Field(default_factory=list, max_length=8)

    @field_validator("name")
    @classmethod
    def _lower_case_name(cls, value: str) -> str:
        return " ".join(value.split()).lower()


class CapabilityAnswer(BaseModel):
    """The capabilities an AI artifact's card describes."""

    model_config = ConfigDict(extra="forbid")

    capabilities: list[CapabilityDraft] = Field(max_length=20)


class Evidence(BaseModel):
    """A quote and where it sits in the card text as fetched (`text[start:end]`)."""

    model_config = ConfigDict(extra="forbid")

    quote: Quote
    start: int | None = Field(default=None, ge=0)
    end: int | None = Field(default=None, ge=0)
    match: MatchKind


class Capability(BaseModel):
    """A capability record after grounding: the draft plus its checked evidence and verdict."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: CapabilityName
    description: Description
    unique: Unique
    vs_alternatives: list[Alternative] = Field(min_length=1, max_length=4)
    category: str | None = None
    intents: list[str] = Field(default_factory=list, max_length=8)
    limitations: list[str] = Field(default_factory=list, max_length=8)
    evidence: list[Evidence] = Field(min_length=1, max_length=MAX_MERGED_EVIDENCE)
    grounding: GroundingVerdict
    problems: list[str] = Field(default_factory=list)


class Artifact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    kind: ArtifactKind
    name: str
    url: str | None = None
    source_digest: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    metadata: dict[str, Any] = Field(default_factory=dict)


class Provenance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    endpoint: str
    mode: str
    prompt_version: str
    created_at: str
    requests: int = Field(ge=0)
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    cache_key: str


class Decomposition(BaseModel):
    """What `decompose card --format json` prints and the store keeps."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal["1"] = SCHEMA_VERSION
    artifact: Artifact
    capabilities: list[Capability]
    provenance: Provenance
    notes: list[str] = Field(
        default_factory=list,
        description="What the run left out and why: parts of the card not decomposed, records dropped, "
        "a card with too little to decompose.",
    )


@dataclass(frozen=True)
class Section:
    """A heading-delimited part of the card; offsets index `Card.text`."""

    title: str
    level: int
    start: int
    end: int


@dataclass(frozen=True)
class Card:
    """A fetched card: the text exactly as fetched plus what we know about the artifact."""

    source: str
    text: str
    id: str
    name: str
    kind: ArtifactKind
    url: str | None
    digest: str
    metadata: dict[str, Any] = field(default_factory=dict)
    sections: tuple[Section, ...] = ()
    body_start: int = 0
