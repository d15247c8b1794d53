"""The HTML page: escaped, self-contained, phone-ready, and rendered for real in headless Chromium.

The Chromium test needs Debian's `chromium` (`.ci/run` installs it); it is skipped only outside CI
when the browser is missing, and fails in CI (CI=true) rather than skip.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from decompose.cli import app
from tests.conftest import CARDS, EXCHANGES
from tests.support.openai_server import OpenAIServer, answer

runner = CliRunner()
A_COLOUR, B_COLOUR = (0x25, 0x63, 0xEB), (0xC2, 0x41, 0x0C)  # --a and --b in compare.html.j2
HOSTILE_CARD = """---
license: "<script>alert('license')</script>"
pretty_name: "<img src=x onerror=alert('name')>"
---
# Hostile model

It is meant for testing <img src=x onerror=alert(2)> escaping of card text.

<script>alert(1)</script>
"""
HOSTILE_ANSWER = {
    "capabilities": [
        {
            "name": "<script>alert(3)</script> escaping",
            "description": "Renders <img src=x onerror=alert(4)> and <script>alert(5)</script> as text, "
            "never as markup, whatever the card or the model says.",
            "unique": "Carries onerror=alert(6) and <b onmouseover=alert(7)>bold</b> to the page.",
            "vs_alternatives": [
                {"alternative": "<script>alert(8)</script>", "comparison": "<svg onload=alert(9)> here"}
            ],
            "evidence": ["It is meant for testing <img src=x onerror=alert(2)> escaping of card text."],
            "intents": ["<iframe src=javascript:alert(10)>"],
        }
    ]
}


class Elements(HTMLParser):
    """Every element and attribute of a page, and its text, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Elements:
    elements = Elements()
    elements.feed(page)
    return elements


def run(*args: str) -> str:
    result = runner.invoke(app, ["compare", *args])
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def fixture_page() -> str:
    qwen, stack = str(CARDS / "qwen3-embedding-4b.md"), str(CARDS / "the-stack-v2.md")
    options = ("--replay", str(EXCHANGES), "--no-cache", "--as-of", "2025-09-01", "-f", "html", "--top", "3")
    return run(qwen, stack, *options)


@pytest.fixture
def hostile_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-local")
    first, second = tmp_path / "hostile.md", tmp_path / "hostile-too.md"
    first.write_text(HOSTILE_CARD, encoding="utf-8")
    second.write_text(HOSTILE_CARD.replace("alert('name')", "alert('other name')"), encoding="utf-8")
    with OpenAIServer(responder=lambda _body: answer(HOSTILE_ANSWER)) as server:
        common = (str(first), str(second), "--base-url", server.base_url, "--cache", str(tmp_path / "c.sqlite3"))
        return {fmt: run(*common, "-f", fmt) for fmt in ("html", "md")}


def test_card_and_llm_text_is_escaped_in_html(hostile_pages: dict[str, str]) -> None:
    page = parse(hostile_pages["html"])
    assert not {"script", "img", "iframe", "b"} & set(page.tags)
    assert "svg" in page.tags  # our own chart is markup; theirs is not
    assert [name for name, _ in page.attributes if name.startswith("on")] == []
    text = "".join(page.text)
    assert "<script>alert(3)</script> escaping" in text  # shown to the reader as text
    assert "<img src=x onerror=alert('name')>" in text  # the card's pretty_name, in the title and headings
    assert "<svg onload=alert(9)> here" in text


def test_card_and_llm_text_cannot_become_markup_in_markdown(hostile_pages: dict[str, str]) -> None:
    markdown = hostile_pages["md"]
    assert "<script" not in markdown and "<img" not in markdown and "<svg" not in markdown
    assert "&lt;script>alert(3)&lt;/script> escaping" in markdown


def test_page_is_self_contained_and_ready_for_a_phone(fixture_page: str) -> None:
    page = parse(fixture_page)
    assert ("name", "viewport") in page.attributes
    assert "@media (min-width: 48rem)" in fixture_page  # one column on a phone, two side by side above
    assert "script" not in page.tags and "link" not in page.tags
    assert [name for name, _ in page.attributes if name == "src"] == []
    assert "url(" not in fixture_page and "@import" not in fixture_page
    assert "default-src 'none'" in fixture_page  # the browser refuses any fetch the page might attempt


def test_page_folds_capabilities_beyond_top_and_evidence_into_details(fixture_page: str) -> None:
    page = parse(fixture_page)
    assert "+4 more capabilities" in fixture_page  # 7 records per side, --top 3
    assert page.tags.count("article") == 14  # every record is on the page, the rest folded
    assert page.tags.count("details") == 2 + 14  # two "+N more" folds, one evidence fold per record
    assert 'title="exact match, characters 1164–1188 of the card"' in fixture_page


def test_anything_not_grounded_carries_a_visible_mark(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-local")
    card = tmp_path / "claims.md"
    card.write_text("# Claims\n\nThe model outputs vectors of 2560 values for every input text.\n", encoding="utf-8")
    unfaithful = {
        "capabilities": [
            dict(
                HOSTILE_ANSWER["capabilities"][0],
                name="wide vectors",
                unique="Outputs 4096-dimensional vectors, wider than most.",
                evidence=["The model outputs vectors of 2560 values"],
            )
        ]
    }
    with OpenAIServer(responder=lambda _body: answer(unfaithful)) as server:
        common = (str(card), str(card), "--base-url", server.base_url, "--cache", str(tmp_path / "c.sqlite3"))
        html, markdown = run(*common, "-f", "html"), run(*common, "-f", "md")
    assert html.count('<span class="mark ungrounded"') == 2
    assert "⚠ ungrounded: not backed by the card" in html and "Claimed by the model, not backed by the card:" in html
    assert "### 1. wide vectors (⚠ UNGROUNDED: not backed by the card)" in markdown
    assert "| Grounded | 0 of 1 (0%) | 0 of 1 (0%) |" in markdown


def decode_png(data: bytes) -> tuple[int, int, list[bytes], int]:
    """8-bit RGB/RGBA, non-interlaced PNG (what Chromium writes) → rows of pixels; no imaging library needed."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, compressed, header = 8, [], (0, 0, 0, 0, 0, 0, 0)
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            compressed.append(body)
        position += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    channels = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(b"".join(compressed)), width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, up_left = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 255
            elif kind == 4:
                guess = left + up - up_left
                distances = (abs(guess - left), abs(guess - up), abs(guess - up_left))
                line[i] = (line[i] + (left, up, up_left)[distances.index(min(distances))]) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, rows, channels


def chromium_or_skip() -> str:
    browser = shutil.which("chromium")
    if browser is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing in CI: .ci/run installs Debian's chromium package")
        pytest.skip("chromium is not installed (apt-get install chromium); CI runs this test")
    return browser


def render_in_chromium(browser: str, page: Path, tmp_path: Path) -> tuple[str, bytes]:
    """Load the page headless with no network features; return its DOM and a phone-sized screenshot."""
    screenshot = tmp_path / "page.png"
    result = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={screenshot}", "--dump-dom",
         "--window-size=390,844", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0 and screenshot.is_file(), result.stderr[-2000:]
    return result.stdout, screenshot.read_bytes()


def test_headless_chromium_shows_title_both_ranks_and_a_non_blank_chart(
    fixture_page: str, hostile_pages: dict[str, str], tmp_path: Path
) -> None:
    browser = chromium_or_skip()
    page = tmp_path / "page.html"
    page.write_text(fixture_page, encoding="utf-8")
    dom, png = render_in_chromium(browser, page, tmp_path)
    assert "<title>Qwen3-Embedding-4B vs The Stack v2</title>" in dom
    rank_cell = r"<td[^>]*><strong>\d+/100</strong></td>"
    assert re.search(rf'<th scope="row">Rank</th>{rank_cell}{rank_cell}', dom)
    width, height, rows, channels = decode_png(png)
    assert (width, height) == (390, 844)
    pixels = Counter(row[i : i + 3] for row in rows for i in range(0, len(row), channels))
    background, count = pixels.most_common(1)[0]
    assert count < 0.9 * width * height, "the screenshot is (nearly) one colour: the page did not render"
    assert pixels[bytes(A_COLOUR)] > 500 and pixels[bytes(B_COLOUR)] > 500, "the sub-score chart bars are missing"
    hostile = tmp_path / "hostile.html"
    hostile.write_text(hostile_pages["html"], encoding="utf-8")
    (tmp_path / "hostile").mkdir()
    hostile_dom, _ = render_in_chromium(browser, hostile, tmp_path / "hostile")
    assert "<script" not in hostile_dom and "<img" not in hostile_dom and "onerror=alert(4)" in hostile_dom
