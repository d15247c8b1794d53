"""License openness and access (open / gated / API): what a user may do with the artifact, and how to get it.

Both are read from the metadata (front matter merged with hub facts) and, for access, from the
card text; the rules are few and listed in docs/scoring.md so a surprising value can be traced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from decompose.compare.model import Access
from decompose.records import Card

# Hub license ids (https://huggingface.co/docs/hub/repositories-licenses), matched by prefix.
COPYLEFT = ("gpl", "lgpl", "agpl", "mpl", "epl", "eupl", "cc-by-sa", "odbl", "cdla-sharing", "osl", "gfdl")
RESTRICTED = (
    "openrail", "bigscience", "creativeml", "llama", "gemma", "cc-by-nc", "cc-by-nd", "deepfloyd", "c-uda",
    "intel-research", "apple", "fair-noncommercial",
)
PERMISSIVE = (
    "apache", "mit", "bsd", "isc", "cc0", "cc-by", "unlicense", "zlib", "pddl", "odc-by", "cdla-permissive", "bsl",
    "afl", "artistic", "postgresql", "wtfpl", "ecl", "ms-pl", "ncsa", "etalab", "lppl",
)
CLOSED = frozenset({"proprietary", "closed", "commercial", "api-only"})
UNSTATED = frozenset({"", "unknown", "none", "n/a", "noassertion"})

OPENNESS = {"permissive": 1.0, "copyleft": 0.8, "restricted use": 0.5, "custom terms": 0.25, "proprietary": 0.0}

GATED_FRONT_MATTER = ("extra_gated_prompt", "extra_gated_fields", "extra_gated_heading")
HOSTED_ONLY = re.compile(
    r"\b(only (available|accessible) (through|via) (an?|our|the) API"
    r"|available (only|exclusively) (through|via) (an?|our|the) API"
    r"|weights (are|were|will) not (be )?(publicly )?(released|available)"
    r"|not available for download)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class LicenseClass:
    license: str
    category: str
    openness: float


def card_license(metadata: dict[str, Any]) -> str | None:
    """The license id the metadata names, or None when it names none (never guessed from prose)."""
    value = metadata.get("license")
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else ", ".join(str(item) for item in value)
    if value is None or str(value).strip().lower() in UNSTATED:
        return None
    return str(value).strip()


def classify_license(license_id: str) -> LicenseClass:
    """Map a license id to an openness class; an id we don't know counts as custom terms."""
    key = license_id.lower()
    if key in CLOSED:
        category = "proprietary"
    elif key.startswith(COPYLEFT):
        category = "copyleft"
    elif key.startswith(RESTRICTED):
        category = "restricted use"
    elif key.startswith(PERMISSIVE):
        category = "permissive"
    else:
        category = "custom terms"
    return LicenseClass(license_id, category, OPENNESS[category])


def access_of(card: Card) -> tuple[Access | None, str]:
    """Gated beats everything; API means hosted-only; open needs positive evidence, else None (n/a)."""
    gated = card.metadata.get("gated")
    if gated not in (None, False, "false", "False"):
        return "gated", f"the hub marks it gated ({gated})"
    gate_key = next((key for key in GATED_FRONT_MATTER if key in card.metadata), None)
    if gate_key is not None:
        return "gated", f"the card's front matter sets {gate_key}"
    license_id = card_license(card.metadata)
    if license_id is not None and license_id.lower() in CLOSED:
        return "API", f"license {license_id}: no weights to download"
    hosted = HOSTED_ONLY.search(card.text, card.body_start)
    if hosted is not None:
        return "API", f"the card says \"{hosted.group(0)}\""
    if "downloads" in card.metadata:
        return "open", "listed on the hub without a gate"
    if license_id is not None:
        return "open", f"published under {license_id}, no gate or hosted-only statement"
    return None, "no hub listing, license or gate to tell"
