"""Comparison → page text: Markdown, one self-contained HTML file, or the JSON of the model.

The HTML environment autoescapes everything (card text and LLM text are untrusted); the Markdown
filters turn every `<` into `&lt;` so a renderer cannot read card text as a tag, and fold newlines
so a card's text cannot break a table row or a list item.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal

import jinja2

from decompose.compare.model import COMPONENTS, Comparison, Side
from decompose.compare.verdict import labels

PageFormat = Literal["md", "html", "json"]
PAGE_FORMATS: tuple[PageFormat, ...] = ("md", "html", "json")
DEFAULT_TOP = 5
WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class ChartRow:
    """One row of the sub-score chart: a label and both sides' 0–1 values (None → n/a)."""

    label: str
    a: float | None
    b: float | None
    a_text: str
    b_text: str


def render_comparison(comparison: Comparison, fmt: PageFormat, *, top: int = DEFAULT_TOP) -> str:
    """`top` capabilities per side are shown in full; the rest are listed (md) or folded (html)."""
    if fmt == "json":
        return json.dumps(comparison.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
    environment = _HTML if fmt == "html" else _MARKDOWN
    template = environment.get_template(f"compare.{fmt}.j2")
    return template.render(c=comparison, top=top, sides=_sides(comparison), chart=chart_rows(comparison))


def chart_rows(comparison: Comparison) -> list[ChartRow]:
    a, b = comparison.a.scores, comparison.b.scores
    rows = [ChartRow("Rank", _share(a.rank), _share(b.rank), rank_text(a.rank), rank_text(b.rank))]
    for name in COMPONENTS:
        score_a, score_b = getattr(a, name).score, getattr(b, name).score
        rows.append(ChartRow(name.capitalize(), score_a, score_b, score_text(score_a), score_text(score_b)))
    return rows


def _share(rank: int | None) -> float | None:
    return None if rank is None else rank / 100


def _sides(comparison: Comparison) -> list[tuple[str, Side, str]]:
    """(footnote/anchor prefix, side, label) for both sides, in page order."""
    first, second = labels(comparison.a, comparison.b)
    return [("a", comparison.a, first), ("b", comparison.b, second)]


def score_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def rank_text(rank: int | None) -> str:
    return "n/a" if rank is None else f"{rank}/100"


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


def md_inline(text: object) -> str:
    """Card or LLM text made safe inside one Markdown line: no raw HTML, no line breaks."""
    return WHITESPACE.sub(" ", str(text)).strip().replace("<", "&lt;")


def md_cell(text: object) -> str:
    return md_inline(text).replace("|", "\\|")


def safe_url(url: str | None) -> str | None:
    """Only http(s) links reach a page: a `javascript:` URL from a card would run on click."""
    return url if url is not None and url.startswith(("https://", "http://")) else None


def _environment(*, autoescape: bool) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("decompose.compare", "templates"),
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters.update(
        score=score_text, rank=rank_text, percent=percent, md=md_inline, cell=md_cell, safe_url=safe_url
    )
    return environment


_MARKDOWN = _environment(autoescape=False)
_HTML = _environment(autoescape=True)
