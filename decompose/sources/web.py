"""Fetch a card over plain HTTP(S): a GitHub repository's README, or any URL serving Markdown or HTML.

Markdown or HTML is decided by the response's content type alone: `text/html` and
`application/xhtml+xml` are HTML and are turned into readable text (scripts, styles and the page head
dropped, headings kept as `#` lines so sections still work); anything else (`text/markdown`,
`text/plain`, none at all) is taken as the card text itself. The converted text is the card "as fetched"
that evidence offsets point into. A response over 2 MB is refused while it streams in.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser

import httpx2

from decompose.errors import AccessDenied, InputError, SourceNotFound
from decompose.sources.refs import GitHubRef, UrlRef
from decompose.sources.text import check_size, decode_card, one_line, require_text

DEFAULT_GITHUB_API = "https://api.github.com"
USER_AGENT = "decompose (card reader)"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# HTML collapses only ASCII whitespace; a no-break space is text and stays.
HTML_SPACE = re.compile(r"[ \t\n\r\f]+")


@dataclass(frozen=True)
class Fetched:
    status: int
    media_type: str
    charset: str | None
    data: bytes
    rate_limited: bool


def fetch_github_readme(ref: GitHubRef, *, timeout: float) -> str:
    """The repository's README through the GitHub API; `GITHUB_TOKEN` is sent if set, never shown."""
    api = (os.environ.get("GITHUB_API_URL") or DEFAULT_GITHUB_API).rstrip("/")
    token = os.environ.get("GITHUB_TOKEN")
    headers = {"Accept": "application/vnd.github.raw", "X-GitHub-Api-Version": "2022-11-28"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    what = f"{ref.owner}/{ref.repo}"
    readme = f"the README of GitHub repository {what}"
    fetched = _fetch(f"{api}/repos/{what}/readme", headers=headers, timeout=timeout, what=readme)
    status = fetched.status
    if status == 404:
        raise SourceNotFound(f"GitHub repository {what} not found or it has no README (404 from {api}); check the URL")
    if status == 401:
        fix = "GITHUB_TOKEN was rejected; check it" if token else "set GITHUB_TOKEN to a token that can read it"
        raise AccessDenied(f"GitHub refused access to {what} (401): {fix}")
    if fetched.rate_limited or status == 429:
        fix = "wait for the reset" if token else "set GITHUB_TOKEN or wait for the reset"
        raise AccessDenied(f"the GitHub API rate limit is exhausted ({status}) for {what}: {fix}")
    if status == 403:
        fix = "check that GITHUB_TOKEN can read it" if token else "set GITHUB_TOKEN to a token that can read it"
        raise AccessDenied(f"GitHub refused access to {what} (403): {fix}")
    if status >= 400:
        raise SourceNotFound(f"GitHub answered {status} for {what}; try again later")
    return decode_card(fetched.data, readme)


def fetch_url_text(ref: UrlRef, *, timeout: float) -> str:
    """The text a URL serves: HTML converted to readable text, anything else taken as it is."""
    fetched = _fetch(ref.url, headers={}, timeout=timeout, what=ref.url)
    status = fetched.status
    if status == 404:
        raise SourceNotFound(f"{ref.url} not found (404); check the URL")
    if status in (401, 403):
        raise AccessDenied(f"{ref.url} refused access ({status}); give a URL readable without logging in")
    if status >= 400:
        raise SourceNotFound(f"{ref.url} answered {status}; check the URL or try again later")
    text = _decode(fetched, ref.url)
    if fetched.media_type in HTML_TYPES:
        return require_text(html_to_text(text), f"{ref.url} (after removing the HTML markup)")
    return text


def _decode(fetched: Fetched, origin: str) -> str:
    """UTF-8 unless the server declared another charset in its content type."""
    if fetched.charset is None or _codec_name(fetched.charset) == "utf-8":
        return decode_card(fetched.data, origin)
    try:
        text = fetched.data.decode(fetched.charset)
    except (LookupError, UnicodeDecodeError):
        raise InputError(f"{origin} does not decode as the {fetched.charset} it declares; serve it as UTF-8") from None
    return require_text(text, origin)


def _codec_name(charset: str) -> str | None:
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return None


def _fetch(url: str, *, headers: Mapping[str, str], timeout: float, what: str) -> Fetched:
    """GET with redirects followed; the body is read only on success, and only up to the size limit."""
    try:
        with httpx2.Client(follow_redirects=True, timeout=timeout, headers={"User-Agent": USER_AGENT}) as client:
            with client.stream("GET", url, headers=dict(headers)) as response:
                data = _read_limited(response, what) if response.is_success else b""
                media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
                return Fetched(
                    status=response.status_code,
                    media_type=media_type,
                    charset=response.charset_encoding,
                    data=data,
                    rate_limited=response.headers.get("x-ratelimit-remaining") == "0",
                )
    except httpx2.InvalidURL as error:
        raise InputError(f"'{url}' is not a valid URL ({one_line(error)})") from None
    except httpx2.HTTPError as error:
        raise SourceNotFound(f"cannot fetch {what} ({one_line(error)}); check the URL and the network") from None


def _read_limited(response: httpx2.Response, what: str) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit():
        check_size(int(declared), what)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        check_size(size, what)
        chunks.append(chunk)
    return b"".join(chunks)


class _ReadableText(HTMLParser):
    """Collects the visible text of a page, with line breaks where blocks end and `#` before headings."""

    SKIPPED = frozenset({"script", "style", "noscript", "template", "svg", "head"})
    BLOCKS = frozenset(
        {"address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure",
         "footer", "form", "header", "hr", "li", "main", "nav", "ol", "p", "section", "table", "tr", "ul"}
    )
    HEADINGS = {f"h{level}": level for level in range(1, 7)}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIPPED:
            self.skip_depth += 1
        elif self.skip_depth:
            return
        elif tag in self.HEADINGS:
            self.parts.append("\n\n" + "#" * self.HEADINGS[tag] + " ")
        elif tag == "pre":
            self.pre_depth += 1
            self.parts.append("\n\n```\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif self.skip_depth:
            return
        elif tag == "pre" and self.pre_depth:
            self.pre_depth -= 1
            self.parts.append("\n```\n\n")
        elif tag in self.HEADINGS or (tag in self.BLOCKS and tag != "li"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        self.parts.append(data if self.pre_depth else HTML_SPACE.sub(" ", data))


def html_to_text(html: str) -> str:
    """Readable text of an HTML page; headings become `#` lines, `<pre>` blocks become code fences."""
    parser = _ReadableText()
    parser.feed(html)
    parser.close()
    lines: list[str] = []
    in_code = False
    for line in "".join(parser.parts).split("\n"):
        if line == "```":
            in_code = not in_code
        elif not in_code:
            line = line.strip(" ")
            if not line and (not lines or not lines[-1]):
                continue
        lines.append(line)
    return "\n".join(lines).strip() + "\n"
