"""Getting the JSON out of a model's answer, and saying what was wrong with it.

Reasoning models wrap answers in `<think>` blocks; others add code fences or prose; instructor's
json/json_schema modes parse the message text as-is. So the text is cleaned before parsing.
Validation errors are rendered without pydantic's URLs: they carry pydantic's version, and a
re-ask carrying them would change whenever pydantic is upgraded (breaking recorded fixtures).
"""

from __future__ import annotations

import json
import re

from pydantic import ValidationError

THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
FENCED_BLOCK = re.compile(r"```[\w-]*[ \t]*\n?(.*?)```", re.DOTALL)
JSON_OPENING = re.compile(r"[{\[]")
PYDANTIC_URL = re.compile(r"\s*For further information visit https://errors\.pydantic\.dev\S*")
MAX_LISTED_ERRORS = 8
MAX_LINE = 300


def strip_reasoning(text: str) -> str:
    """Drop `<think>` blocks, an orphan closing tag's preamble, and an unclosed trailing block."""
    text = THINK_BLOCK.sub("", text)
    lowered = text.lower()
    if (close := lowered.rfind("</think>")) >= 0:
        text = text[close + len("</think>") :]
    elif (opened := lowered.find("<think>")) >= 0:
        text = text[:opened]
    return text.strip()


def extract_json_text(text: str) -> str:
    """The JSON a model meant to return; the text itself when no JSON can be found in it."""
    text = strip_reasoning(text)
    for block in FENCED_BLOCK.findall(text):
        if block.strip().startswith(("{", "[")):
            return block.strip()
    decoder = json.JSONDecoder()
    first = None
    for opening in JSON_OPENING.finditer(text):
        start = opening.start()
        first = start if first is None else first
        try:
            _, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            continue
        return text[start:end]
    if first is None:
        return text
    end = text.rfind("}") + 1
    return text[first : end if end > first else len(text)]


def failure_lines(error: BaseException) -> list[str]:
    """A headline and one line per problem (at most MAX_LISTED_ERRORS), without pydantic URLs."""
    if not isinstance(error, ValidationError):
        return [one_line(PYDANTIC_URL.sub("", str(error))) or type(error).__name__]
    problems = error.errors(include_url=False, include_context=False, include_input=False)
    count = len(problems)
    lines = [f"{count} validation error{'s' if count != 1 else ''} for {error.title}:"]
    for problem in problems[:MAX_LISTED_ERRORS]:
        location = ".".join(str(part) for part in problem["loc"]) or "answer"
        lines.append(f"- {location}: {problem['msg']}")
    if count > MAX_LISTED_ERRORS:
        lines.append(f"- ... and {count - MAX_LISTED_ERRORS} more")
    return lines


def describe_for_model(error: BaseException) -> str:
    """The error as the model reads it in a re-ask."""
    return "\n".join(failure_lines(error))


def describe_for_user(error: BaseException) -> str:
    """The error as one line of a user-facing message."""
    headline, *problems = failure_lines(error)
    return one_line(" ".join([headline, "; ".join(problem.removeprefix("- ") for problem in problems)]))


def one_line(text: str, limit: int = MAX_LINE) -> str:
    """Collapse whitespace and cut to `limit` characters: error messages are one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
