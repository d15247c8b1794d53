"""Decomposition → text in the formats the CLI offers (json, yaml, md)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Literal

import jinja2
import yaml

from decompose.records import Decomposition

Format = Literal["json", "yaml", "md"]
FORMATS: tuple[Format, ...] = ("json", "yaml", "md")

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("decompose", "templates"),
    autoescape=False,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


def render(decompositions: list[Decomposition], fmt: Format) -> str:
    """One decomposition renders as itself; several as a JSON array, YAML documents or md sections."""
    payloads = [decomposition.model_dump(mode="json") for decomposition in decompositions]
    if fmt == "json":
        data = payloads[0] if len(payloads) == 1 else payloads
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        return yaml.safe_dump_all(payloads, sort_keys=False, allow_unicode=True, width=100)
    return "\n---\n\n".join(render_markdown(decomposition) for decomposition in decompositions)


def render_markdown(decomposition: Decomposition) -> str:
    verdicts = Counter(capability.grounding for capability in decomposition.capabilities)
    return _templates.get_template("report.md.j2").render(d=decomposition, verdicts=verdicts)
