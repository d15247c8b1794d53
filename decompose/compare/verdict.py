"""The headline and the verdict: sentences built from the scores alone, with no LLM call.

A side "leads on" a sub-score when it is at least LEAD_MARGIN above the other; closer than that,
neither does. Sub-scores are named in their fixed order, so the same scores give the same words.
"""

from __future__ import annotations

from decompose.compare.model import COMPONENTS, ComponentName, Side

LEAD_MARGIN = 0.05


def labels(a: Side, b: Side) -> tuple[str, str]:
    """What to call each side: its name, or its id when both share a name."""
    if a.name == b.name and a.id != b.id:
        return a.id, b.id
    return a.name, b.name


def headline(a: Side, b: Side) -> str:
    """Who ranks higher, at N/100 vs M/100."""
    label_a, label_b = labels(a, b)
    rank_a, rank_b = a.scores.rank, b.scores.rank
    if rank_a is None and rank_b is None:
        return f"Neither {label_a} nor {label_b} can be ranked: none of their weighted sub-scores has its inputs."
    if rank_a is None or rank_b is None:
        ranked, rank, unranked = (label_b, rank_b, label_a) if rank_a is None else (label_a, rank_a, label_b)
        return f"{ranked} ranks at {rank}/100; {unranked} cannot be ranked (n/a)."
    if rank_a == rank_b:
        return f"{label_a} and {label_b} rank level at {rank_a}/100."
    (high, high_rank), (low, low_rank) = sorted(((label_a, rank_a), (label_b, rank_b)), key=lambda s: -s[1])
    return f"{high} ranks higher at {high_rank}/100 vs {low} at {low_rank}/100."


def verdict(a: Side, b: Side) -> str:
    """E.g. "X scores higher at 58/100 vs Y at 48/100. Y leads on adoption, while X is stronger on quality." """
    label_a, label_b = labels(a, b)
    rank_a, rank_b = a.scores.rank, b.scores.rank
    if rank_a is None or rank_b is None:
        return headline(a, b) + _not_available(a, b)
    a_first = rank_a >= rank_b
    high, low = (a, b) if a_first else (b, a)
    high_label, low_label = (label_a, label_b) if a_first else (label_b, label_a)
    high_leads, low_leads = _leads(high, low), _leads(low, high)
    if rank_a == rank_b:
        opening = f"{label_a} and {label_b} tie at {rank_a}/100."
    else:
        opening = f"{high_label} scores higher at {high.scores.rank}/100 vs {low_label} at {low.scores.rank}/100."
    if high_leads and low_leads:
        contrast = f" {low_label} leads on {_join(low_leads)}, while {high_label} is stronger on {_join(high_leads)}."
    elif high_leads:
        contrast = f" {high_label} is stronger on {_join(high_leads)}."
    elif low_leads:
        contrast = f" {low_label} leads on {_join(low_leads)}, yet ranks lower on the weighted total."
        if rank_a == rank_b:
            contrast = f" {low_label} leads on {_join(low_leads)}."
    else:
        contrast = f" No sub-score differs by {LEAD_MARGIN:.2f} or more."
    level = _level(a, b)
    if level and (high_leads or low_leads):
        contrast += f" They are level on {_join(level)}."
    return opening + contrast + _not_available(a, b)


def _level(a: Side, b: Side) -> list[ComponentName]:
    """Sub-scores both sides have that differ by less than LEAD_MARGIN."""
    return [
        name
        for name in COMPONENTS
        if name not in _leads(a, b) + _leads(b, a)
        and getattr(a.scores, name).score is not None
        and getattr(b.scores, name).score is not None
    ]


def _leads(side: Side, other: Side) -> list[ComponentName]:
    leads: list[ComponentName] = []
    for name in COMPONENTS:
        mine, theirs = getattr(side.scores, name).score, getattr(other.scores, name).score
        if mine is not None and theirs is not None and mine - theirs >= LEAD_MARGIN - 1e-9:
            leads.append(name)
    return leads


def _not_available(a: Side, b: Side) -> str:
    missing_a, missing_b = ([c.name for c in side.scores.components() if c.score is None] for side in (a, b))
    label_a, label_b = labels(a, b)
    if missing_a and missing_a == missing_b:
        return _missing_sentence(missing_a, "both")
    sides = ((missing_a, label_a), (missing_b, label_b))
    return "".join(_missing_sentence(missing, label) for missing, label in sides if missing)


def _missing_sentence(missing: list[str], whom: str) -> str:
    verb = "is" if len(missing) == 1 else "are"
    return f" {_join(missing).capitalize()} {verb} n/a for {whom}."


def _join(names: list[str] | list[ComponentName]) -> str:
    items = list(names)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
