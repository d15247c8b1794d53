"""A vs B comparison pages: transparent scores, matched capabilities and a verdict, from two decompositions.

    from datetime import date
    from decompose import Decomposer
    from decompose.compare import compare_sources, render_comparison

    with Decomposer() as decomposer:
        comparison = compare_sources(decomposer, "Qwen/Qwen3-Embedding-4B", "bigcode/the-stack-v2", as_of=date.today())
    print(render_comparison(comparison, "md"))
"""

from __future__ import annotations

from decompose.compare.build import compare, compare_sources
from decompose.compare.model import Comparison, Weights
from decompose.compare.render import DEFAULT_TOP, PAGE_FORMATS, PageFormat, render_comparison

__all__ = [
    "DEFAULT_TOP",
    "PAGE_FORMATS",
    "Comparison",
    "PageFormat",
    "Weights",
    "compare",
    "compare_sources",
    "render_comparison",
]
