"""The comparison as data: what `decompose compare --format json` prints and every page renders from.

Pages are views of this model and nothing else, so a service reading the JSON sees exactly the
numbers, inputs and reasons a person reads on the page.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from decompose.records import ArtifactKind, Capability

COMPARISON_VERSION = "1"

ComponentName = Literal["adoption", "quality", "ecosystem", "freshness"]
COMPONENTS: tuple[ComponentName, ...] = ("adoption", "quality", "ecosystem", "freshness")
Access = Literal["open", "gated", "API"]


class Weights(BaseModel):
    """How much each sub-score counts toward the rank; only the ratios matter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    adoption: float = Field(default=0.3, ge=0, allow_inf_nan=False)
    quality: float = Field(default=0.3, ge=0, allow_inf_nan=False)
    ecosystem: float = Field(default=0.2, ge=0, allow_inf_nan=False)
    freshness: float = Field(default=0.2, ge=0, allow_inf_nan=False)

    def of(self, name: ComponentName) -> float:
        return float(getattr(self, name))

    def shares(self) -> dict[ComponentName, float]:
        """Each weight as a share of their sum (what the page shows)."""
        total = sum(self.of(name) for name in COMPONENTS)
        return {name: self.of(name) / total if total else 0.0 for name in COMPONENTS}


class Component(BaseModel):
    """One 0–1 sub-score; `score` is None (shown as n/a) when an input it needs is missing."""

    model_config = ConfigDict(extra="forbid")

    name: ComponentName
    score: float | None = Field(ge=0, le=1)
    inputs: dict[str, Any]
    reasons: list[str]


class Scores(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rank: int | None = Field(ge=0, le=100, description="Weighted mean of the available sub-scores, 0-100.")
    rank_reason: str
    adoption: Component
    quality: Component
    ecosystem: Component
    freshness: Component

    def components(self) -> tuple[Component, ...]:
        return tuple(getattr(self, name) for name in COMPONENTS)


class Side(BaseModel):
    """One artifact of the pair: who it is, its facts, its scores and its records."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    kind: ArtifactKind
    url: str | None
    license: str | None
    access: Access | None
    access_reason: str
    scores: Scores
    capabilities: list[Capability]
    grounded: int
    partial: int
    ungrounded: int
    grounded_share: float | None = Field(
        ge=0, le=1, description="Grounded records / all records; None without records."
    )
    records_model: str
    prompt_version: str


class Match(BaseModel):
    """A's and B's records judged to describe the same capability, and why."""

    model_config = ConfigDict(extra="forbid")

    a: str
    b: str
    a_name: str
    b_name: str
    similarity: float
    reason: str
    needs: list[str]


class Unmatched(BaseModel):
    """A record with no counterpart on the other side, with its closest miss as the explanation."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    needs: list[str]
    reason: str


class Matching(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: float
    pairs: list[Match]
    only_a: list[Unmatched]
    only_b: list[Unmatched]
    overlap: float | None = Field(description="Dice overlap: 2 x pairs / (records of A + records of B).")


class Comparison(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comparison_version: Literal["1"] = COMPARISON_VERSION
    title: str
    as_of: str = Field(description="The reference date (YYYY-MM-DD) freshness is measured against.")
    weights: Weights
    headline: str
    a: Side
    b: Side
    matching: Matching
    verdict: str
