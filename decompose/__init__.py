"""decompose: turn an AI artifact's card into capability records checked against the card.

`Decomposer` and `LLMSettings` are imported lazily so `import decompose.records` stays cheap for
tools that only need the schema contract.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from decompose.api import Decomposer
    from decompose.llm import LLMSettings

__all__ = ["Decomposer", "LLMSettings"]


def __getattr__(name: str) -> Any:
    if name == "Decomposer":
        from decompose.api import Decomposer

        return Decomposer
    if name == "LLMSettings":
        from decompose.llm import LLMSettings

        return LLMSettings
    raise AttributeError(f"module 'decompose' has no attribute {name!r}")
