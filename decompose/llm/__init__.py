"""LLM access: settings, mode choice per endpoint, the two retry paths, and `StructuredLLM`.

Record/replay of exchanges lives in `decompose.llm.replay` and is imported only when used.
"""

from decompose.llm.attempts import Answer, Usage
from decompose.llm.client import StructuredLLM
from decompose.llm.modes import VALID_MODES, flatten_schema, is_openai_endpoint, resolve_mode
from decompose.llm.settings import LLMSettings, resolve_endpoint, resolve_mode_name

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
