"""LLM access: settings, mode choice per endpoint, the two retry paths, and `StructuredLLM`.

`StructuredLLM` (and with it openai and instructor, most of the start-up time of the CLI) is imported
on first use, so a run answered from the cache never loads them. Record/replay of exchanges lives in
`decompose.llm.replay` and is imported only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from decompose.llm.attempts import Answer, Usage
from decompose.llm.modes import VALID_MODES, flatten_schema, is_openai_endpoint, resolve_mode
from decompose.llm.settings import LLMSettings, resolve_endpoint, resolve_mode_name

if TYPE_CHECKING:
    from decompose.llm.client import StructuredLLM

__all__ = [
    "VALID_MODES",
    "Answer",
    "LLMSettings",
    "StructuredLLM",
    "Usage",
    "flatten_schema",
    "is_openai_endpoint",
    "resolve_endpoint",
    "resolve_mode",
    "resolve_mode_name",
]


def __getattr__(name: str) -> Any:
    if name == "StructuredLLM":
        from decompose.llm.client import StructuredLLM

        return StructuredLLM
    raise AttributeError(f"module 'decompose.llm' has no attribute {name!r}")
