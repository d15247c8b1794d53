"""Fetch a card over plain HTTP(S): a GitHub repository's README, or any URL serving Markdown or HTML.

Markdown or HTML is decided by the response's content type alone: `text/html` and
`application/xhtml+xml` are HTML and are turned into readable text (scripts, styles and the page head
dropped, headings kept as `#` lines so sections still work); anything else (`text/markdown`,
`text/plain`, none at all) is taken as the card text itself. The converted text is the card "as fetched"
that evidence offsets point into.

Limits, because a URL is user input: a response over `max_bytes` is refused while it streams in (after
decompression); the whole fetch, redirects included, must finish within `timeout`; at most
MAX_REDIRECTS redirects are followed, each to http(s) only. Redirects are followed here, hop by hop,
so that every hop passes the private-address guard (`guard.py`) and credentials never follow a
redirect to another origin. The GitHub API (`GITHUB_API_URL`) is an operator setting: its own origin
is not checked, a redirect away from it is.
"""

from __future__ import annotations

import codecs
import os
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser

import httpx2

from decompose.errors import AccessDenied, InputError, SourceNotFound
from decompose.sources.guard import public_addresses
from decompose.sources.refs import GitHubRef, UrlRef
from decompose.sources.text import MAX_CARD_BYTES, check_size, decode_card, one_line, require_text

DEFAULT_GITHUB_API = "https://api.github.com"
USER_AGENT = "decompose (card reader)"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# HTML collapses only ASCII whitespace; a no-break space is text and stays.
HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
MAX_REDIRECTS = 10
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class FetchLimits:
    """How much a fetch may read, for how long, and whether it may reach private addresses."""

    timeout: float = 30.0
    max_bytes: int = MAX_CARD_BYTES
    allow_private: bool = False


@dataclass(frozen=True)
class Fetched:
    status: int
    media_type: str
    charset: str | None
    data: bytes
    rate_limited: bool


def fetch_github_readme(ref: GitHubRef, limits: FetchLimits) -> str:
    """The repository's README through the GitHub API; `GITHUB_TOKEN` is sent if set, never shown."""
    api = (os.environ.get("GITHUB_API_URL") or DEFAULT_GITHUB_API).rstrip("/")
    token = os.environ.get("GITHUB_TOKEN")
    headers = {"Accept": "application/vnd.github.raw", "X-GitHub-Api-Version": "2022-11-28"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    what = f"{ref.owner}/{ref.repo}"
    readme = f"the README of GitHub repository {what}"
    url = f"{api}/repos/{what}/readme"
    fetched = _fetch(url, headers=headers, limits=limits, what=readme, operator_url=True)
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
    if not 200 <= status < 300:
        raise SourceNotFound(f"GitHub answered {status} for {what}; try again later")
    return decode_card(fetched.data, readme, limits.max_bytes)


def fetch_url_text(ref: UrlRef, limits: FetchLimits) -> str:
    """The text a URL serves: HTML converted to readable text, anything else taken as it is."""
    fetched = _fetch(ref.url, headers={}, limits=limits, what=ref.url, operator_url=False)
    status = fetched.status
    if status == 404:
        raise SourceNotFound(f"{ref.url} not found (404); check the URL")
    if status in (401, 403):
        raise AccessDenied(f"{ref.url} refused access ({status}); give a URL readable without logging in")
    if not 200 <= status < 300:
        raise SourceNotFound(f"{ref.url} answered {status}; check the URL or try again later")
    text = _decode(fetched, ref.url, limits.max_bytes)
    if fetched.media_type in HTML_TYPES:
        return require_text(html_to_text(text), f"{ref.url} (after removing the HTML markup)")
    return text


def _decode(fetched: Fetched, origin: str, max_bytes: int) -> str:
    """UTF-8 unless the server declared another charset in its content type."""
    if fetched.charset is None or _codec_name(fetched.charset) == "utf-8":
        return decode_card(fetched.data, origin, max_bytes)
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


def _fetch(url: str, *, headers: Mapping[str, str], limits: FetchLimits, what: str, operator_url: bool) -> Fetched:
    """GET, following redirects hop by hop; the body is read only on success, and only up to the limit.

    An `operator_url` (configured, not user input) is reached without the private-address check, and
    so is the rest of its origin; every other origin a redirect leads to is checked.
    """
    deadline = time.monotonic() + limits.timeout
    try:
        first = _checked_url(url)
        trusted = _origin(first) if operator_url else None
        with httpx2.Client(timeout=limits.timeout, headers={"User-Agent": USER_AGENT}) as client:
            target = first
            for _ in range(MAX_REDIRECTS + 1):
                _check_deadline(deadline)
                hop_headers = dict(headers) if _origin(target) == _origin(first) else {}
                subject = what if target is first else f"{target} (redirected from {url})"
                addresses = None if limits.allow_private or _origin(target) == trusted else _checked(target, subject)
                with _opened(client, target, hop_headers, addresses) as response:
                    location = response.headers.get("location") if response.is_redirect else None
                    if location is None:
                        return _fetched(response, what, limits.max_bytes, deadline)
                target = _redirect_target(target, location, what)
    except httpx2.InvalidURL as error:
        raise InputError(f"'{url}' is not a valid URL ({one_line(error)})") from None
    except httpx2.TimeoutException:
        raise SourceNotFound(
            f"cannot fetch {what} (not done within {limits.timeout:g} s); check the URL and the network"
        ) from None
    except httpx2.HTTPError as error:
        raise SourceNotFound(f"cannot fetch {what} ({one_line(error)}); check the URL and the network") from None
    raise SourceNotFound(f"{what} redirected more than {MAX_REDIRECTS} times; check the URL")


def _check_deadline(deadline: float) -> None:
    """httpx's timeouts bound each read; this bounds the whole fetch (a server may dribble for ever)."""
    if time.monotonic() > deadline:
        raise httpx2.ReadTimeout("the fetch took too long")


def _checked(target: httpx2.URL, subject: str) -> tuple[str, ...]:
    """The public addresses to connect to for `target` (InputError if any is private)."""
    return public_addresses(target.raw_host.decode("ascii"), _origin(target)[2], subject=subject)


def _checked_url(url: str) -> httpx2.URL:
    parsed = httpx2.URL(url)
    if parsed.scheme not in DEFAULT_PORTS or not parsed.host:
        raise InputError(f"'{url}' is not an http(s) URL")
    return parsed


def _redirect_target(current: httpx2.URL, location: str, what: str) -> httpx2.URL:
    """Where a redirect leads, resolved against the URL that answered it; http(s) only."""
    try:
        target = current.join(location)
    except httpx2.InvalidURL:
        target = None
    if target is None or target.scheme not in DEFAULT_PORTS or not target.host:
        raise InputError(f"refused {what}: it redirects to '{location}', which is not an http(s) URL")
    return target


def _origin(url: httpx2.URL) -> tuple[str, str, int]:
    return url.scheme, url.host, url.port or DEFAULT_PORTS.get(url.scheme, 0)


@contextmanager
def _opened(
    client: httpx2.Client, target: httpx2.URL, headers: dict[str, str], addresses: tuple[str, ...] | None
) -> Iterator[httpx2.Response]:
    response = _send(client, target, headers, addresses)
    try:
        yield response
    finally:
        response.close()


def _send(
    client: httpx2.Client, target: httpx2.URL, headers: dict[str, str], addresses: tuple[str, ...] | None
) -> httpx2.Response:
    """Send to `target`; with checked `addresses`, connect to those (in order) instead of the host name.

    The request keeps the name in its Host header and, over TLS, as the SNI name the certificate is
    verified against, so pinning the address changes nothing the server or TLS sees.
    """
    if addresses is None:
        return client.send(client.build_request("GET", target, headers=headers), stream=True)
    host_header = {"Host": target.netloc.decode("ascii")}
    extensions = {"sni_hostname": target.raw_host.decode("ascii")} if target.scheme == "https" else {}

    def pinned(address: str) -> httpx2.Request:
        url = target.copy_with(host=address)
        return client.build_request("GET", url, headers={**headers, **host_header}, extensions=extensions)

    *others, last = addresses
    for address in others:
        try:
            return client.send(pinned(address), stream=True)
        except (httpx2.ConnectError, httpx2.ConnectTimeout):
            continue
    return client.send(pinned(last), stream=True)


def _fetched(response: httpx2.Response, what: str, max_bytes: int, deadline: float) -> Fetched:
    return Fetched(
        status=response.status_code,
        media_type=response.headers.get("content-type", "").split(";", 1)[0].strip().lower(),
        charset=response.charset_encoding,
        data=_read_limited(response, what, max_bytes, deadline) if response.is_success else b"",
        rate_limited=response.headers.get("x-ratelimit-remaining") == "0",
    )


def _read_limited(response: httpx2.Response, what: str, max_bytes: int, deadline: float) -> bytes:
    """The body, refused once it passes `max_bytes` (decompressed) or the fetch passes its deadline."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit():
        check_size(int(declared), what, max_bytes)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        check_size(size, what, max_bytes)
        _check_deadline(deadline)
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
