"""Many small generated cards, and a scripted LLM that answers each one by quoting it.

Every card has a unique lower-case name (letters only: digits in names would read as quantities) and
a few fact sentences; `quoting_responder` answers a request with capabilities whose evidence quotes
those sentences verbatim, so every record grounds. Used by the batch tests and by bench/batch_*.py.
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any

from tests.support.openai_server import Reply, answer, raw

GARBAGE_MARK = "This card makes the scripted model answer with garbage."
CARD_TEXT = re.compile(r"<card>\n(.*)\n</card>", re.DOTALL)
HEADING = re.compile(r"^# (\S+)", re.MULTILINE)
FACT = re.compile(r"^- (.+)$", re.MULTILINE)
FILLER = (
    "This paragraph describes the training and evaluation setup of the model in general terms, with "
    "notes on data sources, preprocessing, licensing and intended use that a reader may want to check. "
)


def card_name(index: int) -> str:
    """`card-baaa`, `card-baab`, ...: unique, letters only."""
    letters = []
    for _ in range(4):
        index, digit = divmod(index, 26)
        letters.append(string.ascii_lowercase[digit])
    return "card-b" + "".join(reversed(letters))


def card_text(index: int, *, size: int = 0, garbage: bool = False) -> str:
    """A card of at least `size` bytes: heading, three fact lines, then filler sections."""
    name = card_name(index)
    dims = 256 + index
    lines = [
        f"# {name}",
        "",
        f"- The {name} model maps each input text to a vector of {dims} dimensions.",
        f"- The {name} model reads inputs of up to {1024 + index} tokens in one pass.",
        f"- The {name} model was trained on {3 + index % 7} billion tokens of public web text.",
    ]
    if garbage:
        lines.append(f"- {GARBAGE_MARK}")
    text = "\n".join(lines) + "\n"
    section = 0
    while len(text.encode("utf-8")) < size:
        section += 1
        text += f"\n## Notes part {section}\n\n" + FILLER * 6 + "\n"
    return text


def write_cards(directory: Path, count: int, *, size: int = 0, start: int = 0) -> list[Path]:
    """Write cards `start` .. `start + count - 1` as `<name>.md`; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(start, start + count):
        path = directory / f"{card_name(index)}.md"
        path.write_text(card_text(index, size=size), encoding="utf-8")
        paths.append(path)
    return paths


def requested_card(body: dict[str, Any]) -> str:
    """The name of the card a chat request asks about."""
    match = HEADING.search(_card_of(body))
    return match.group(1) if match else ""


def quoting_responder(body: dict[str, Any], *, loosely: bool = False) -> Reply:
    """Capabilities that quote the card's fact lines verbatim (garbage for a card marked so);
    `loosely`: the first quote starts in lower case, as models often copy, so it matches only once
    the card is normalised."""
    text = _card_of(body)
    if GARBAGE_MARK in text:
        return raw("this is not JSON at all")
    name = requested_card(body)
    facts = FACT.findall(text)[:3]
    if loosely and facts:
        facts[0] = facts[0][:1].lower() + facts[0][1:]
    topics = ("vector output", "input length", "training data")
    return answer(
        {"capabilities": [_capability(name, topic, fact) for topic, fact in zip(topics, facts, strict=False)]}
    )


def _card_of(body: dict[str, Any]) -> str:
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, str) and (match := CARD_TEXT.search(content)):
            return match.group(1)
    return ""


def _capability(name: str, topic: str, fact: str) -> dict[str, Any]:
    return {
        "name": f"{topic} of {name}",
        "description": (
            f"The card of {name} states how its {topic} works in one plain sentence. The record keeps that "
            "sentence as its evidence so a reader can check the claim against the card text."
        ),
        "unique": f"The card gives the {topic} of this model in its own words.",
        "vs_alternatives": [{"alternative": "a generic baseline", "comparison": "the card gives no comparison"}],
        "evidence": [fact],
    }
