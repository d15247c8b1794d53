"""Assemble a `Card` from whichever source form the user gave."""

from __future__ import annotations

import sys
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit

from decompose.errors import InputError, SourceNotFound
from decompose.records import ArtifactKind, Card
from decompose.sources.hub import fetch_hub_card
from decompose.sources.refs import GitHubRef, HubRef, LocalRef, StdinRef, UrlRef, parse_source
from decompose.sources.text import (
    MAX_CARD_BYTES,
    check_size,
    decode_card,
    digest,
    find_sections,
    first_h1,
    infer_kind,
    one_line,
    parse_front_matter,
)
from decompose.sources.web import FetchLimits, fetch_github_readme, fetch_url_text


def load_card(
    source: str,
    *,
    stdin: BinaryIO | None = None,
    timeout: float = 30.0,
    max_bytes: int = MAX_CARD_BYTES,
    allow_private_urls: bool = False,
) -> Card:
    """Read SOURCE (a file, `-`, a hub id or URL, a GitHub URL, any http(s) URL) into a Card.

    A card larger than `max_bytes` is refused, from every source. A URL source that resolves to a
    private, loopback or link-local address is refused unless `allow_private_urls`; the hub
    (`HF_ENDPOINT`) and the GitHub API (`GITHUB_API_URL`) are operator settings and are not checked.
    Raises only `InputError` and its subclasses (`SourceNotFound`, `AccessDenied`), each with a
    one-line message that says what was wrong and what to do.
    """
    if max_bytes <= 0:
        raise InputError(f"the size limit (--max-bytes) must be a positive number of bytes, got {max_bytes}")
    ref = parse_source(source)
    limits = FetchLimits(timeout=timeout, max_bytes=max_bytes, allow_private=allow_private_urls)
    if isinstance(ref, HubRef):
        hub_card = fetch_hub_card(ref, timeout=timeout, max_bytes=max_bytes)
        return build_card(
            source, hub_card.text, id=ref.repo_id, name=ref.name, kind=ref.kind, url=ref.url, extra=hub_card.metadata
        )
    if isinstance(ref, GitHubRef):
        text = fetch_github_readme(ref, limits)
        return build_card(source, text, id=f"{ref.owner}/{ref.repo}", name=ref.repo, url=ref.url)
    if isinstance(ref, UrlRef):
        text = fetch_url_text(ref, limits)
        return build_card(source, text, id=url_id(ref.url), url=ref.url)
    if isinstance(ref, StdinRef):
        return build_card(source, decode_card(_read_stdin(stdin, max_bytes), "stdin", max_bytes), id="stdin")
    return _load_local(source, ref, max_bytes)


def build_card(
    source: str,
    text: str,
    *,
    id: str,
    name: str | None = None,
    kind: ArtifactKind | None = None,
    url: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Card:
    """Parse front matter and sections, then fill what the source did not say from the text itself."""
    origin = "stdin" if source == "-" else source
    front_matter, body_start = parse_front_matter(text, origin)
    sections = find_sections(text, body_start)
    return Card(
        source=source,
        text=text,
        id=id,
        name=name or first_h1(sections) or id,
        kind=kind or infer_kind(front_matter),
        url=url,
        digest=digest(text),
        metadata={**front_matter, **(extra or {})},
        sections=sections,
        body_start=body_start,
    )


def url_id(url: str) -> str:
    """The last path segment of a URL (its host when the path is empty)."""
    parts = urlsplit(url)
    segments = [segment for segment in parts.path.split("/") if segment]
    return unquote(segments[-1]) if segments else (parts.hostname or url)


def _read_stdin(stdin: BinaryIO | None, max_bytes: int) -> bytes:
    """At most one byte more than the limit: enough to tell it was exceeded, never the whole stream."""
    stream = stdin if stdin is not None else sys.stdin.buffer
    return stream.read(max_bytes + 1)


def _load_local(source: str, ref: LocalRef, max_bytes: int) -> Card:
    """A file, or a directory holding a README.md (a local clone of a hub or GitHub repository)."""
    path, card_id = ref.path, ref.path.stem
    if path.is_dir():
        card_id = path.resolve().name
        path = path / "README.md"
        if not path.is_file():
            raise SourceNotFound(f"{source} is a directory without a README.md; give the card file itself")
    try:
        check_size(path.stat().st_size, source, max_bytes)
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise SourceNotFound(f"no such file: {source}; check the path") from None
    except OSError as error:
        raise InputError(f"cannot read {source} ({error.strerror or one_line(error)}); check its permissions") from None
    return build_card(source, decode_card(data, source, max_bytes), id=card_id)
