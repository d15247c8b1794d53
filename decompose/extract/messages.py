"""The requests extraction sends: one per part of the card, and one re-ask about ungrounded records.

Every request is built afresh from the prompt files and the card text: a re-ask carries the system
prompt, the same card text, the drafts that failed as the model's previous answer and the problems
found in them, never a growing history. The card text sits between `<card>` markers; a marker spelled
inside the card is escaped, so the card cannot close its own quotation and speak as the user.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache

from decompose.cleaning.chunks import estimate_tokens
from decompose.prompts import load_prompt, render
from decompose.records import CapabilityAnswer, CapabilityDraft

Messages = list[dict[str, str]]

CARD_MARKER = re.compile(r"<(/?\s*card\b)", re.IGNORECASE)
ESCAPED_MARKER = r"&lt;\1"


def neutralise_markers(text: str) -> str:
    """`</card>` or `<card>` inside the card becomes `&lt;/card>`: readable, but no marker."""
    return CARD_MARKER.sub(ESCAPED_MARKER, text)


def part_messages(card_text: str, part: int, parts: int) -> Messages:
    """The request for one part (`part` counts from 1); it depends on the card text alone."""
    user = render(load_prompt("extract"), card_text=neutralise_markers(card_text), part=part, parts=parts)
    return [{"role": "system", "content": load_prompt("system").text}, {"role": "user", "content": user}]


def reground_messages(asked: Messages, drafts: Sequence[CapabilityDraft], problems: Sequence[list[str]]) -> Messages:
    """The part's request, the ungrounded drafts as the previous answer, and only their problems."""
    previous = CapabilityAnswer(capabilities=list(drafts)).model_dump_json(exclude_defaults=True)
    records = [{"name": draft.name, "problems": found} for draft, found in zip(drafts, problems)]
    return [
        *(dict(message) for message in asked),
        {"role": "assistant", "content": previous},
        {"role": "user", "content": render(load_prompt("reground"), records=records)},
    ]


def estimated_prompt_tokens(card_text: str, part: int = 1, parts: int = 1) -> int:
    """Estimated tokens of the request for `card_text`: its messages and the answer's schema."""
    messages = part_messages(card_text, part, parts)
    return sum(estimate_tokens(message["content"]) for message in messages) + _schema_tokens()


@cache
def overhead_tokens() -> int:
    """Estimated tokens of a request besides the card text: instructions and the answer's schema."""
    return estimated_prompt_tokens("", 1, 2)


@cache
def _schema_tokens() -> int:
    return estimate_tokens(json.dumps(CapabilityAnswer.model_json_schema(), separators=(",", ":")))
