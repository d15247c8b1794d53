"""GitHub READMEs and plain URLs (Markdown and HTML) through a local static server.

The server listens on 127.0.0.1, which the private-address guard refuses for URL sources, so URL
sources are loaded with `allow_private_urls=True` here; the GitHub API (`GITHUB_API_URL`) is an
operator setting and is reached without it. The guard itself is tested in test_security.py.
"""

from __future__ import annotations

import functools
import gzip
import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from decompose.errors import AccessDenied, InputError, SourceNotFound
from decompose.sources import guard, load_card
from decompose.sources.web import html_to_text
from tests.conftest import one_line_error
from tests.support.hub_server import Route, RunningServer, web_server

load_url = functools.partial(load_card, allow_private_urls=True)

TOOL_README = "# Tool\n\nA command-line tool.\n\n## Install\n\npip install tool\n"
DATASET_MD = "---\ntask_categories: [text-generation]\n---\n# Corpus\n\nText.\n"
PAGE = """<!doctype html>
<html><head><title>Page title</title><style>h1 { color: red }</style>
<script>var x = "<h1>fake</h1>";</script></head>
<body><nav>Home</nav>
<h1>Model &amp; card</h1>
<p>It   embeds
   <b>text</b> into 2560 dimensions.</p>
<script>document.write("hidden")</script>
<ul><li>fast</li><li>small</li></ul>
<pre>model = load()
    model.encode(x)</pre>
<h2>Limits</h2><p>English&nbsp;only.</p>
</body></html>"""
PAGE_TEXT = (
    "Home\n\n# Model & card\n\nIt embeds text into 2560 dimensions.\n\n- fast\n- small\n\n"
    "```\nmodel = load()\n    model.encode(x)\n```\n\n## Limits\n\nEnglish\u00a0only.\n"
)
OVER_LIMIT = b"a" * (2 * 1024 * 1024 + 1)
TOO_BIG = "is larger than the 2 MB a card may have; give the card itself, not a data file (or raise --max-bytes)"

ROUTES = {
    "/repos/octo/tool/readme": Route(TOOL_README, content_type="application/vnd.github.raw; charset=utf-8"),
    "/repos/octo/private/readme": Route(status=401),
    "/repos/octo/limited/readme": Route(status=403, headers={"X-RateLimit-Remaining": "0"}),
    "/cards/corpus.md": Route(DATASET_MD),
    "/cards/page": Route(PAGE, content_type="text/html; charset=utf-8"),
    "/cards/empty.html": Route("<html><script>render()</script></html>", content_type="text/html"),
    "/cards/latin.md": Route("# Café\n".encode("latin-1"), content_type="text/markdown; charset=iso-8859-1"),
    "/cards/moved": Route(status=301, headers={"Location": "/cards/corpus.md"}),
    "/cards/big.md": Route(OVER_LIMIT),
    "/cards/big-streamed.md": Route(OVER_LIMIT, send_length=False),
    "/cards/binary.bin": Route(b"\x89PNG\r\n\x1a\n\x00\x00", content_type="image/png"),
    "/cards/login": Route(status=401),
    "/cards/forbidden": Route(status=403),
    "/cards/broken": Route(status=502),
    "/cards/gzip-bomb.md": Route(gzip.compress(b"a" * 10 * 1024 * 1024), headers={"Content-Encoding": "gzip"}),
    "/loop/a": Route(status=302, headers={"Location": "/loop/b"}),
    "/loop/b": Route(status=302, headers={"Location": "/loop/a"}),
    "/cards/to-file": Route(status=302, headers={"Location": "file:///etc/passwd"}),
    "/cards/to-metadata": Route(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}),
    "/cards/no-location": Route(status=302),
    "/repos/octo/renamed/readme": Route(status=301, headers={"Location": "/repos/octo/tool/readme"}),
    "/repos/octo/to-metadata/readme": Route(status=302, headers={"Location": "http://169.254.169.254/latest/"}),
    "/": Route("# Home page\n"),
}


@pytest.fixture(scope="module")
def web_process() -> Iterator[RunningServer]:
    with web_server(ROUTES) as server:
        yield server


@pytest.fixture
def web(web_process: RunningServer, monkeypatch: pytest.MonkeyPatch) -> RunningServer:
    """The module's static server with its request log cleared; it also plays the GitHub API, without a token."""
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.setenv("GITHUB_API_URL", web_process.url)
    web_process.requests.clear()
    return web_process


def test_github_readme(web: RunningServer) -> None:
    card = load_card("https://github.com/octo/tool")
    assert card.text == TOOL_README
    assert (card.id, card.name, card.kind) == ("octo/tool", "tool", "other")
    assert card.url == "https://github.com/octo/tool"
    assert [s.title for s in card.sections] == ["Tool", "Install"]
    [request] = web.requests
    assert request.path == "/repos/octo/tool/readme"
    assert request.headers["accept"] == "application/vnd.github.raw"
    assert "authorization" not in request.headers


def test_github_token_is_sent_but_never_shown(web: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_very_secret")
    load_card("https://github.com/octo/tool")
    assert web.requests[-1].headers["authorization"] == "Bearer ghp_very_secret"
    with pytest.raises(AccessDenied) as raised:
        load_card("https://github.com/octo/private")
    message = one_line_error(raised)
    assert message == "GitHub refused access to octo/private (401): GITHUB_TOKEN was rejected; check it"
    assert "ghp_very_secret" not in message


@pytest.mark.parametrize(
    ("source", "error", "expected"),
    [
        ("https://github.com/octo/missing", SourceNotFound,
         "GitHub repository octo/missing not found or it has no README (404 from {url}); check the URL"),
        ("https://github.com/octo/private", AccessDenied,
         "GitHub refused access to octo/private (401): set GITHUB_TOKEN to a token that can read it"),
        ("https://github.com/octo/limited", AccessDenied,
         "the GitHub API rate limit is exhausted (403) for octo/limited: "
         "set GITHUB_TOKEN or wait for the reset"),
    ],
)
def test_github_errors(source: str, error: type[Exception], expected: str, web: RunningServer) -> None:
    with pytest.raises(error) as raised:
        load_card(source)
    assert one_line_error(raised) == expected.format(url=web.url)


def test_markdown_url(web: RunningServer) -> None:
    url = f"{web.url}/cards/corpus.md"
    card = load_url(url)
    assert card.text == DATASET_MD
    assert (card.source, card.id, card.name, card.kind, card.url) == (url, "corpus.md", "Corpus", "dataset", url)
    assert card.metadata == {"task_categories": ["text-generation"]}


def test_redirect_is_followed(web: RunningServer) -> None:
    url = f"{web.url}/cards/moved"
    card = load_url(url)
    assert (card.text, card.id, card.url) == (DATASET_MD, "moved", url)


def test_url_without_path_is_named_by_host(web: RunningServer) -> None:
    card = load_url(f"{web.url}/")
    assert (card.id, card.name) == ("127.0.0.1", "Home page")


def test_html_page_becomes_readable_text(web: RunningServer) -> None:
    card = load_url(f"{web.url}/cards/page")
    assert card.text == PAGE_TEXT
    assert (card.id, card.name) == ("page", "Model & card")
    assert [(s.title, s.level) for s in card.sections] == [("Model & card", 1), ("Limits", 2)]
    limits = card.sections[1]
    assert card.text[limits.start : limits.end] == "## Limits\n\nEnglish\u00a0only.\n"


def test_html_to_text_drops_scripts_and_styles() -> None:
    text = html_to_text("<style>p{}</style><p>a<script>b()</script>c</p><template><p>t</p></template><br>d")
    assert text == "ac\n\nd\n"


def test_declared_charset_is_honoured(web: RunningServer) -> None:
    assert load_url(f"{web.url}/cards/latin.md").text == "# Café\n"


@pytest.mark.parametrize(
    ("path", "error", "expected"),
    [
        ("/cards/nothing.md", SourceNotFound, "{url}/cards/nothing.md not found (404); check the URL"),
        ("/cards/login", AccessDenied,
         "{url}/cards/login refused access (401); give a URL readable without logging in"),
        ("/cards/forbidden", AccessDenied,
         "{url}/cards/forbidden refused access (403); give a URL readable without logging in"),
        ("/cards/broken", SourceNotFound, "{url}/cards/broken answered 502; check the URL or try again later"),
        ("/cards/big.md", InputError, "{url}/cards/big.md " + TOO_BIG),
        ("/cards/big-streamed.md", InputError, "{url}/cards/big-streamed.md " + TOO_BIG),
        ("/cards/gzip-bomb.md", InputError, "{url}/cards/gzip-bomb.md " + TOO_BIG),
        ("/loop/a", SourceNotFound, "{url}/loop/a redirected more than 10 times; check the URL"),
        ("/cards/to-file", InputError,
         "refused {url}/cards/to-file: it redirects to 'file:///etc/passwd', which is not an http(s) URL"),
        ("/cards/no-location", SourceNotFound,
         "{url}/cards/no-location answered 302; check the URL or try again later"),
        ("/cards/binary.bin", InputError,
         "{url}/cards/binary.bin is binary (NUL byte at offset 8), not a text card; give a Markdown or text file"),
        ("/cards/empty.html", InputError,
         "{url}/cards/empty.html (after removing the HTML markup) is empty; give a card with text in it"),
    ],
)
def test_url_errors(path: str, error: type[Exception], expected: str, web: RunningServer) -> None:
    with pytest.raises(error) as raised:
        load_url(web.url + path)
    assert type(raised.value) is error
    assert one_line_error(raised) == expected.format(url=web.url)


def test_unreachable_url() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/card.md"
    with pytest.raises(SourceNotFound) as raised:
        load_url(url, timeout=2)
    message = one_line_error(raised)
    assert message.startswith(f"cannot fetch {url} (")
    assert message.endswith("); check the URL and the network")


def test_max_bytes_is_configurable(web: RunningServer) -> None:
    url = f"{web.url}/cards/corpus.md"
    assert load_url(url, max_bytes=len(DATASET_MD)).text == DATASET_MD
    with pytest.raises(InputError) as raised:
        load_url(url, max_bytes=len(DATASET_MD) - 1)
    assert one_line_error(raised) == (
        f"{url} is larger than the {len(DATASET_MD) - 1} bytes a card may have; "
        "give the card itself, not a data file (or raise --max-bytes)"
    )


def test_a_url_on_a_private_address_is_refused_before_any_request(web: RunningServer) -> None:
    with pytest.raises(InputError) as raised:
        load_card(f"{web.url}/cards/corpus.md")
    assert "127.0.0.1 is a loopback address" in one_line_error(raised)
    assert "--allow-private-urls" in one_line_error(raised)
    assert web.requests == []


def test_github_redirect_within_the_api_keeps_the_token(web: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_very_secret")
    card = load_card("https://github.com/octo/renamed")
    assert card.text == TOOL_README
    assert [request.path for request in web.requests] == ["/repos/octo/renamed/readme", "/repos/octo/tool/readme"]
    assert all(request.headers["authorization"] == "Bearer ghp_very_secret" for request in web.requests)


def test_github_redirect_away_from_the_api_is_checked(web: RunningServer) -> None:
    """The API's own origin is the operator's; where it redirects to is not."""
    with pytest.raises(InputError) as raised:
        load_card("https://github.com/octo/to-metadata")
    assert one_line_error(raised).startswith(
        "refused http://169.254.169.254/latest/ (redirected from "
        f"{web.url}/repos/octo/to-metadata/readme): 169.254.169.254 is a link-local address;"
    )


def test_token_does_not_follow_a_redirect_to_another_origin(
    web: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_very_secret")
    port = web.url.rsplit(":", 1)[1]
    elsewhere = f"http://localhost:{port}/cards/corpus.md"
    routes = {"/repos/octo/away/readme": Route(status=302, headers={"Location": elsewhere})}
    with web_server(routes) as api:
        monkeypatch.setenv("GITHUB_API_URL", api.url)
        with pytest.raises(InputError, match="localhost resolves to 127.0.0.1, a loopback address"):
            load_card("https://github.com/octo/away")
        assert web.requests == []
        assert load_card("https://github.com/octo/away", allow_private_urls=True).text == DATASET_MD
    [followed] = web.requests
    assert followed.headers["host"] == f"localhost:{port}"
    assert "authorization" not in followed.headers


def test_every_redirect_hop_is_checked(web: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """With 127.0.0.1 taken as public (the test server has to live somewhere), the redirect to the
    cloud metadata address is still refused, before anything connects to it."""
    real = guard.blocked_reason
    monkeypatch.setattr(guard, "blocked_reason", lambda a: None if a == ipaddress.ip_address("127.0.0.1") else real(a))
    assert load_card(f"{web.url}/cards/corpus.md").text == DATASET_MD
    with pytest.raises(InputError) as raised:
        load_card(f"{web.url}/cards/to-metadata")
    assert one_line_error(raised).startswith(
        f"refused http://169.254.169.254/latest/meta-data/ (redirected from {web.url}/cards/to-metadata): "
        "169.254.169.254 is a link-local address"
    )


def test_connection_goes_to_the_checked_address_not_a_second_dns_answer(
    web: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name answers 127.0.0.1 when checked and an unroutable address after that.
    The fetch works only if it connects to the address that was checked."""
    answers = iter(["127.0.0.1", "10.255.255.1"])
    resolved: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "cards.test":
            return real_getaddrinfo(host, port, *args, **kwargs)
        resolved.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(guard, "blocked_reason", lambda address: None)
    port = web.url.rsplit(":", 1)[1]
    card = load_card(f"http://cards.test:{port}/cards/corpus.md", timeout=2)
    assert card.text == DATASET_MD
    assert resolved == ["cards.test"]
    assert web.requests[-1].headers["host"] == f"cards.test:{port}"
