"""Cleaning: chrome goes, the words and every cited quote stay, and the map leads back to the card."""

from __future__ import annotations

import json

import pytest

from decompose.cleaning import clean, clean_card
from decompose.cleaning.chunks import estimate_tokens
from decompose.sources import load_card
from tests.conftest import ANSWERS, CARDS

FAITHFUL = sorted(path for path in ANSWERS.glob("*.json") if not path.name.endswith(".unfaithful.json"))
CARD_FILES = [CARDS / folder / f"{path.stem}.md" for folder in (".", "noisy") for path in FAITHFUL]


def quotes_of(stem: str) -> list[str]:
    data = json.loads((ANSWERS / f"{stem}.json").read_text(encoding="utf-8"))
    return [quote for capability in data["capabilities"] for quote in capability["evidence"]]


@pytest.mark.parametrize("path", CARD_FILES, ids=lambda path: str(path.relative_to(CARDS)))
def test_every_quote_of_the_faithful_answers_survives_cleaning(path) -> None:
    cleaned = clean_card(load_card(str(path))).text
    missing = [quote for quote in quotes_of(path.stem) if quote not in cleaned]
    assert missing == []


@pytest.mark.parametrize("path", CARD_FILES, ids=lambda path: str(path.relative_to(CARDS)))
def test_every_kept_character_maps_back_to_the_same_character_of_the_card(path) -> None:
    text = path.read_text(encoding="utf-8")
    cleaned = clean(text, load_card(str(path)).body_start)
    for index, char in enumerate(cleaned.text):
        start, end = cleaned.original_span(index, index + 1)
        if end - start == 1:
            assert text[start] == char
    for quote in quotes_of(path.stem):
        at = cleaned.text.index(quote)
        start, end = cleaned.original_span(at, at + len(quote))
        assert text[start:end] == quote


@pytest.mark.parametrize("stem", [path.stem for path in FAITHFUL])
def test_noisy_cards_lose_at_least_30_percent_of_their_tokens(stem: str) -> None:
    text = (CARDS / "noisy" / f"{stem}.md").read_text(encoding="utf-8")
    cleaned = clean_card(load_card(str(CARDS / "noisy" / f"{stem}.md"))).text
    assert estimate_tokens(cleaned) <= 0.7 * estimate_tokens(text)


def test_images_badges_comments_and_html_chrome_go_but_their_text_stays() -> None:
    text = (
        '<!-- Provide a quick summary. -->\n<p align="center">\n  <img src="logo.png" width="400"/>\n</p>\n\n'
        "[![License](https://img.shields.io/badge/License-Apache-blue.svg)](LICENSE) "
        "![stars](https://img.shields.io/github/stars/x/y)\n\n"
        '<h1 align="center">Tiny <b>Model</b></h1>\n\n'
        "See the [paper](https://arxiv.org/abs/1234.5678 \"arXiv\") and <a href=\"https://x.org\">the blog</a>.\n"
    )
    assert clean(text).text == "Tiny Model\n\nSee the paper and the blog.\n"


def test_details_and_summary_tags_go_and_their_inner_text_stays() -> None:
    text = (
        "<details>\n<summary><b>Results (click to expand)</b></summary>\n\n"
        "Accuracy is 91.2% on the test set.\n</details>\n"
    )
    assert clean(text).text == "Results (click to expand)\n\nAccuracy is 91.2% on the test set.\n"


def test_html_tables_become_pipe_rows_and_markdown_tables_lose_their_padding() -> None:
    html = "<table>\n<tr><th>Model</th><th>Size</th></tr>\n<tr><td>Tiny</td><td>14M</td></tr>\n</table>\n"
    assert clean(html).text == "| Model | Size |\n| Tiny | 14M |\n"
    one_line = "<table><tr><th>Model</th><th>Size</th></tr><tr><td>Tiny</td><td>14M</td></tr></table>"
    assert clean(one_line).text == "| Model | Size |\n| Tiny | 14M |\n"
    markdown = "| Model      | Size   |\n|:-----------|-------:|\n| Tiny       | 14M    |\n"
    assert clean(markdown).text == "| Model | Size |\n|:---|---:|\n| Tiny | 14M |\n"


def test_bibtex_is_reduced_to_its_title_fenced_or_not() -> None:
    text = (
        "## Citation\n\n```bibtex\n@article{tiny2024,\n  title={Tiny Models Work},\n  author={A and B and C},\n"
        "  year={2024}\n}\n```\n\n@inproceedings{other,\n  author = {D},\n  title = {Another {Title}},\n}\n"
    )
    assert clean(text).text == "## Citation\n\n  title={Tiny Models Work},\n\n  title = {Another {Title}},\n"


def test_code_is_left_as_it_is() -> None:
    text = '```html\n<p align="center"><img src="x.png"></p>\n<!-- keep -->\n```\n\nUse `<img>` tags.\n'
    assert clean(text).text == text


def test_repeated_boilerplate_placeholders_and_empty_sections_go() -> None:
    notice = "Note: this repository is shared for research, check it on your own data first.\n"
    text = (
        f"{notice}\n# Tiny\n\nIt classifies reviews.\n\n## Model Card Contact\n\n[More Information Needed]\n\n"
        "## Environmental Impact\n\n- **Hardware Type:** [More Information Needed]\n\n"
        f"### Carbon\n\n[More Information Needed]\n\n## Usage\n\nCall it.\n\n{notice}"
    )
    assert clean(text).text == f"{notice}\n# Tiny\n\nIt classifies reviews.\n\n## Usage\n\nCall it.\n"


def test_bulky_front_matter_goes_and_short_values_stay() -> None:
    text = (
        "---\nlicense: apache-2.0\nmodel-index:\n- name: tiny\n  results:\n  - metrics:\n    - value: 0.9\n"
        "widget:\n- text: hello\n---\n\n# Tiny\n\nIt classifies reviews.\n"
    )
    cleaned = clean(text, body_start=text.index("\n# Tiny")).text
    assert cleaned == "---\nlicense: apache-2.0\n---\n\n# Tiny\n\nIt classifies reviews.\n"


def test_replaced_characters_map_to_the_markup_they_stand_for() -> None:
    text = "<p>One</p><p>Two</p>"
    cleaned = clean(text)
    assert cleaned.text == "One\n\nTwo\n"
    newline = cleaned.text.index("\n")
    assert text[slice(*cleaned.original_span(newline, newline + 1))] == "</p>"
    assert cleaned.position(text.index("Two")) == cleaned.text.index("Two")


def test_token_estimate_counts_ascii_by_four_and_other_characters_one_each() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd" * 10) == 10
    assert estimate_tokens("abcde") == 2
    assert estimate_tokens("감성 분류") == 5
