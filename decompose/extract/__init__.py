"""Card → capability records: cleaning, asking per part, re-asking, merging, grounding (see pipeline)."""

from decompose.extract.assemble import MAX_CAPABILITIES, Assembled, NothingGrounded
from decompose.extract.ids import slug
from decompose.extract.pipeline import (
    DEFAULT_MAX_INPUT_TOKENS,
    Extraction,
    aextract,
    assemble_answer,
    check_max_input_tokens,
    extract,
)

__all__ = [
    "DEFAULT_MAX_INPUT_TOKENS",
    "MAX_CAPABILITIES",
    "Assembled",
    "Extraction",
    "NothingGrounded",
    "aextract",
    "assemble_answer",
    "check_max_input_tokens",
    "extract",
    "slug",
]
