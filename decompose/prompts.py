"""Prompt templates live as files; a prompt's version is the hash of its text.

Editing a prompt changes its version, which changes every cache key and every recorded request,
so stale caches miss and stale fixtures fail loudly instead of answering for an old prompt.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2

from decompose.errors import ConfigError

PROMPT_NAMES = ("system", "extract", "reground")


def prompts_dir() -> Path:
    """The shipped copy inside the wheel, else the checkout's top-level `prompts/`."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "prompts", here.parent / "prompts"):
        if candidate.is_dir():
            return candidate
    raise ConfigError(f"prompt files not found next to {here}; reinstall decompose")


@dataclass(frozen=True)
class Prompt:
    name: str
    text: str
    version: str


_environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)


@cache
def load_prompt(name: str) -> Prompt:
    path = prompts_dir() / f"{name}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read prompt {path}: {error.strerror}; reinstall decompose") from None
    return Prompt(name=name, text=text, version=hashlib.sha256(text.encode("utf-8")).hexdigest()[:12])


@cache
def _template(text: str) -> jinja2.Template:
    return _environment.from_string(text)


def render(prompt: Prompt, **values: object) -> str:
    """Templates compile once per prompt text: a batch renders thousands of prompts."""
    return _template(prompt.text).render(**values)


def prompt_set_version() -> str:
    """One version for every prompt the pipeline sends: what a cache key and a fixture depend on."""
    joined = ",".join(f"{name}={load_prompt(name).version}" for name in PROMPT_NAMES)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:12]
