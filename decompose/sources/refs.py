"""Classify a SOURCE string into a typed reference before anything is read or fetched.

Deciding the form up front lets every later step be specific (which host, which id) and lets a bad
id fail here, with the accepted forms, instead of as an obscure HTTP error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from decompose.errors import InputError, SourceNotFound

ACCEPTED_FORMS = (
    "a local file, '-' for stdin, a hub model id ORG/NAME, https://huggingface.co/ORG/NAME, "
    "https://huggingface.co/datasets/ORG/NAME, https://github.com/OWNER/REPO or another http(s) URL"
)

HUB_HOSTS = frozenset({"huggingface.co", "www.huggingface.co", "hf.co"})
GITHUB_HOSTS = frozenset({"github.com", "www.github.com"})
# First path segments of huggingface.co pages that are not model repositories (blog posts, docs, ...).
HUB_NON_REPO_PREFIXES = frozenset(
    {"api", "blog", "chat", "collections", "docs", "join", "learn", "login", "models", "new",
     "organizations", "papers", "posts", "pricing", "search", "settings", "tasks"}
)
# Suffixes of a hub repo URL that still mean "this repository's card".
HUB_CARD_SUFFIXES = ((), ("tree", "main"), ("blob", "main", "README.md"), ("resolve", "main", "README.md"))
CARD_FILE_SUFFIXES = (".md", ".markdown", ".txt", ".rst", ".html", ".htm", ".yaml", ".yml", ".json")

REPO_PART = re.compile(r"[A-Za-z0-9][\w.-]*", re.ASCII)
# `data:...`, `javascript:...`, `mailto:...`: a URL without `//` (one letter would be a Windows drive).
OPAQUE_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+):")
MAX_REPO_PART = 96


@dataclass(frozen=True)
class LocalRef:
    path: Path


@dataclass(frozen=True)
class StdinRef:
    pass


@dataclass(frozen=True)
class HubRef:
    kind: Literal["model", "dataset"]
    repo_id: str

    @property
    def name(self) -> str:
        return self.repo_id.split("/", 1)[1]

    @property
    def path(self) -> str:
        """The repo's path on a hub: `ORG/NAME` for models, `datasets/ORG/NAME` for datasets."""
        return f"datasets/{self.repo_id}" if self.kind == "dataset" else self.repo_id

    @property
    def url(self) -> str:
        return f"https://huggingface.co/{self.path}"


@dataclass(frozen=True)
class GitHubRef:
    owner: str
    repo: str

    @property
    def url(self) -> str:
        return f"https://github.com/{self.owner}/{self.repo}"


@dataclass(frozen=True)
class UrlRef:
    url: str


SourceRef = LocalRef | StdinRef | HubRef | GitHubRef | UrlRef


def is_valid_repo_part(part: str) -> bool:
    """One half of ORG/NAME: starts with a letter or digit, then word characters, '.' or '-'."""
    return len(part) <= MAX_REPO_PART and ".." not in part and REPO_PART.fullmatch(part) is not None


def validate_repo_id(repo_id: str, what: str = "hub repo id") -> str:
    """Return `repo_id` if it is a well-formed ORG/NAME, else raise InputError before any request."""
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(is_valid_repo_part(part) for part in parts):
        raise InputError(
            f"'{repo_id}' is not a valid {what}: expected ORG/NAME, each part starting with a letter or digit "
            f"and made of letters, digits, '_', '.', '-' (at most {MAX_REPO_PART} characters, no '..')"
        )
    return repo_id


def parse_source(source: str) -> SourceRef:
    """Turn the SOURCE a user gave into a reference; raises InputError for a form we do not read."""
    if source == "-":
        return StdinRef()
    if not source.strip():
        raise InputError(f"the source is empty; give {ACCEPTED_FORMS}")
    scheme = source.split("://", 1)[0].lower() if "://" in source else ""
    if scheme in ("http", "https"):
        return _parse_url(source)
    if scheme:
        raise InputError(f"cannot read '{source}': the {scheme}:// scheme is not supported; give {ACCEPTED_FORMS}")
    path = Path(source).expanduser()
    if _exists(path):
        return LocalRef(path)
    return _parse_bare(source)


def _exists(path: Path) -> bool:
    """`Path.exists`, but a name the OS cannot even look up (too long, NUL byte) simply does not exist."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def _parse_bare(source: str) -> SourceRef:
    """A string that names no existing path: a hub id, or a file that is missing."""
    if (scheme := OPAQUE_SCHEME.match(source)) is not None:
        raise InputError(
            f"cannot read '{source}': the {scheme.group(1)}: scheme is not supported; give {ACCEPTED_FORMS}"
        )
    if source.lower().endswith(CARD_FILE_SUFFIXES) or source.startswith(("/", "./", "../", "~", "\\")):
        raise SourceNotFound(f"no such file: {source}; check the path")
    if source.startswith("datasets/") and source.count("/") == 2:
        return HubRef("dataset", validate_repo_id(source.removeprefix("datasets/")))
    if source.count("/") == 1:
        return HubRef("model", validate_repo_id(source))
    raise InputError(f"cannot read '{source}': it is not an existing file; give {ACCEPTED_FORMS}")


def _parse_url(url: str) -> SourceRef:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host:
        raise InputError(f"'{url}' has no host; give {ACCEPTED_FORMS}")
    segments = [unquote(segment) for segment in parts.path.split("/") if segment]
    if host in HUB_HOSTS:
        return _parse_hub_url(url, segments)
    if host in GITHUB_HOSTS:
        return _parse_github_url(url, segments)
    return UrlRef(url)


def _parse_hub_url(url: str, segments: list[str]) -> SourceRef:
    kind: Literal["model", "dataset"] = "model"
    if segments and segments[0] == "spaces":
        raise InputError(f"'{url}' is a Space, which has no model or dataset card; give a model or dataset URL")
    if segments and segments[0] == "datasets":
        kind = "dataset"
        segments = segments[1:]
    elif len(segments) < 2 or segments[0] in HUB_NON_REPO_PREFIXES:
        return UrlRef(url)
    if len(segments) < 2:
        raise InputError(f"'{url}' names no dataset; expected https://huggingface.co/datasets/ORG/NAME")
    repo_id = validate_repo_id("/".join(segments[:2]))
    if tuple(segments[2:]) not in HUB_CARD_SUFFIXES:
        base = HubRef(kind, repo_id).url
        raise InputError(f"'{url}' points inside a repository; give the repository URL {base}, whose card is read")
    return HubRef(kind, repo_id)


def _parse_github_url(url: str, segments: list[str]) -> SourceRef:
    if len(segments) != 2:
        raise InputError(
            f"'{url}' is not a GitHub repository URL; give https://github.com/OWNER/REPO (its README is read) "
            "or the raw URL of a file (https://raw.githubusercontent.com/...)"
        )
    owner, repo = segments[0], segments[1].removesuffix(".git")
    validate_repo_id(f"{owner}/{repo}", what="GitHub repository OWNER/REPO")
    return GitHubRef(owner, repo)
