"""The four sub-scores and the rank, exactly as docs/scoring.md states them.

Every function is pure: the same card, records, reference date and weights give the same numbers.
A sub-score whose inputs are all missing is None (n/a), never 0, and its weight is shared out among
the sub-scores that do have a value. Scores are rounded to 3 decimals before the rank is taken, so
the rank can be recomputed from the numbers the page shows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from decompose.compare.checklist import card_checklist
from decompose.compare.integrations import FULL_INTEGRATIONS, named_integrations
from decompose.compare.licenses import card_license, classify_license
from decompose.compare.model import COMPONENTS, Component, Scores, Weights
from decompose.records import Capability, Card

DOWNLOADS_FULL = 10_000_000
"""Downloads (the hub counts the last 30 days) that earn full adoption credit on the log scale."""
LIKES_FULL = 10_000
FRESHNESS_HALF_LIFE_DAYS = 365
CHECKLIST_SHARE = 0.7
"""Quality = 0.7 x checklist + 0.3 x grounded share (the checklist alone when there are no records)."""


def score_artifact(card: Card, capabilities: Sequence[Capability], *, as_of: date, weights: Weights) -> Scores:
    components = {
        "adoption": adoption(card.metadata),
        "quality": quality(card, capabilities),
        "ecosystem": ecosystem(card),
        "freshness": freshness(card.metadata, as_of=as_of),
    }
    rank, reason = weighted_rank([components[name] for name in COMPONENTS], weights)
    return Scores(rank=rank, rank_reason=reason, **components)


def adoption(metadata: dict[str, Any]) -> Component:
    """Mean of log-scaled downloads and likes, over whichever of the two is known."""
    parts: list[float] = []
    reasons: list[str] = []
    inputs: dict[str, Any] = {}
    counts = (("downloads", DOWNLOADS_FULL, "downloads in the last 30 days"), ("likes", LIKES_FULL, "likes"))
    for key, full, label in counts:
        value = count(metadata.get(key))
        inputs[key] = value
        if value is None:
            reasons.append(f"{key}: n/a ({_missing_why(metadata, key)})")
            continue
        part = min(1.0, math.log10(1 + value) / math.log10(1 + full))
        parts.append(part)
        reasons.append(f"{value:,} {label} → {part:.2f} (log scale, 1.00 at {full:,})")
    score = sum(parts) / len(parts) if parts else None
    return Component(name="adoption", score=_rounded(score), inputs=inputs, reasons=reasons)


def quality(card: Card, capabilities: Sequence[Capability]) -> Component:
    items = card_checklist(card)
    checklist = sum(item.score for item in items) / len(items)
    passed = sum(1 for item in items if item.score == 1.0)
    reasons = [f"checklist {passed}/{len(items)} items → {checklist:.2f}"]
    reasons += [f"{_tick(item.score)} {item.name}: {item.finding}" for item in items]
    share = grounded_share(capabilities)
    if share is None:
        score = checklist
        reasons.append("grounded share: n/a (no capability records); quality is the checklist alone")
    else:
        score = CHECKLIST_SHARE * checklist + (1 - CHECKLIST_SHARE) * share
        reasons.append(
            f"grounded share {share:.2f} (grounded records / {len(capabilities)} records); "
            f"quality = {CHECKLIST_SHARE} × checklist + {1 - CHECKLIST_SHARE:.1f} × grounded share"
        )
    inputs = {
        "checklist": {item.name: round(item.score, 3) for item in items},
        "grounded_share": _rounded(share),
    }
    return Component(name="quality", score=_rounded(score), inputs=inputs, reasons=reasons)


def grounded_share(capabilities: Sequence[Capability]) -> float | None:
    """Fully grounded records over all records: a partly grounded record earns nothing, like on the page."""
    if not capabilities:
        return None
    return sum(1 for capability in capabilities if capability.grounding == "grounded") / len(capabilities)


def ecosystem(card: Card) -> Component:
    """Mean of integrations named (full at FULL_INTEGRATIONS) and license openness (n/a without a license)."""
    names = named_integrations(card)
    integration_part = min(1.0, len(names) / FULL_INTEGRATIONS)
    listed = ", ".join(names) if names else "none from the catalogue"
    reasons = [
        f"libraries and integrations named: {len(names)} ({listed}) → {integration_part:.2f} "
        f"(1.00 at {FULL_INTEGRATIONS})"
    ]
    parts = [integration_part]
    license_id = card_license(card.metadata)
    if license_id is None:
        reasons.append("license openness: n/a (no license in the metadata)")
    else:
        license_class = classify_license(license_id)
        parts.append(license_class.openness)
        reasons.append(f"license \"{license_id}\": {license_class.category} → {license_class.openness:.2f}")
    inputs = {"integrations": names, "license": license_id}
    return Component(name="ecosystem", score=_rounded(sum(parts) / len(parts)), inputs=inputs, reasons=reasons)


def freshness(metadata: dict[str, Any], *, as_of: date) -> Component:
    """Halves every FRESHNESS_HALF_LIFE_DAYS since the last modification; a later date than as_of counts as 0 days."""
    raw = metadata.get("last_modified")
    modified = parse_day(raw)
    inputs: dict[str, Any] = {"last_modified": modified.isoformat() if modified else None, "as_of": as_of.isoformat()}
    if modified is None:
        why = "not known" if raw is None else f"not a date: {str(raw)[:40]!r}"
        return Component(name="freshness", score=None, inputs=inputs, reasons=[f"last modified: n/a ({why})"])
    age = max(0, (as_of - modified).days)
    score = 0.5 ** (age / FRESHNESS_HALF_LIFE_DAYS)
    reason = (
        f"last modified {modified.isoformat()}, {age:,} days before {as_of.isoformat()} → {score:.2f} "
        f"(halves every {FRESHNESS_HALF_LIFE_DAYS} days)"
    )
    return Component(name="freshness", score=_rounded(score), inputs=inputs, reasons=[reason])


def weighted_rank(components: Sequence[Component], weights: Weights) -> tuple[int | None, str]:
    """Weighted mean of the sub-scores that have a value, as 0–100 rounded half up."""
    available = [(c, weights.of(c.name)) for c in components if c.score is not None and weights.of(c.name) > 0]
    total = sum(weight for _, weight in available)
    if not available or total == 0:
        return None, "n/a: no weighted sub-score has a value"
    mean = sum(c.score * weight for c, weight in available if c.score is not None) / total
    rank = math.floor(mean * 100 + 0.5)
    missing = [c.name for c in components if c.score is None and weights.of(c.name) > 0]
    terms = " + ".join(f"{weight / total:.2f} × {c.name} {c.score:.3f}" for c, weight in available)
    note = ""
    if missing:
        whose = "its weight" if len(missing) == 1 else "their weights"
        note = f"; {' and '.join(missing)} n/a, {whose} shared among the others"
    return rank, f"{terms} = {mean:.3f} → {rank}/100{note}"


def count(value: Any) -> int | None:
    """A non-negative integer count, or None for anything else (a missing or malformed input)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def parse_day(value: Any) -> date | None:
    """The calendar day (UTC as given) of an ISO 8601 date or datetime; None if absent or unreadable."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _missing_why(metadata: dict[str, Any], key: str) -> str:
    value = metadata.get(key)
    return "not known" if value is None else f"not a count: {str(value)[:40]!r}"


def _tick(score: float) -> str:
    """✓ found, ✗ missing, ◐ partial credit (length)."""
    return "✓" if score == 1.0 else ("◐" if score else "✗")


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
