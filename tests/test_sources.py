"""SOURCE classification, decoding, front matter, sections and local/stdin cards (no network)."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from decompose.errors import InputError, SourceNotFound
from decompose.records import Section
from decompose.sources import load_card
from decompose.sources.refs import GitHubRef, HubRef, LocalRef, StdinRef, UrlRef, parse_source
from decompose.sources.text import decode_card, find_sections, parse_front_matter
from tests.conftest import one_line_error

MODEL_CARD = """---
license: apache-2.0
pipeline_tag: feature-extraction
library_name: sentence-transformers
base_model: Qwen/Qwen3-4B
release_date: 2025-06-05
trained_at: 2025-06-01 12:30:00
---
# Qwen3-Embedding-4B

Intro paragraph.

## Model Overview ##

- Embedding dimension: up to 2560

```python
# Not a heading: a comment in code
model = load()
```

### Usage
~~~
## also not a heading
~~~
#hashtag is not a heading
####### seven hashes are not one either
"""

KOREAN_CARD = """---
language: ko
pipeline_tag: text-classification
---
# 한국어 소형 모델

이 모델은 약 14M 개의 파라미터를 가집니다.

## 사용 방법

토크나이저와 함께 사용하세요.
"""


# --- SOURCE forms ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "https://huggingface.co/Qwen/Qwen3-Embedding-4B",
        "https://huggingface.co/Qwen/Qwen3-Embedding-4B/",
        "https://huggingface.co/Qwen/Qwen3-Embedding-4B/tree/main",
        "https://huggingface.co/Qwen/Qwen3-Embedding-4B/blob/main/README.md",
        "https://hf.co/Qwen/Qwen3-Embedding-4B",
        "Qwen/Qwen3-Embedding-4B",
    ],
)
def test_model_forms(source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert parse_source(source) == HubRef("model", "Qwen/Qwen3-Embedding-4B")


@pytest.mark.parametrize(
    "source",
    [
        "https://huggingface.co/datasets/bigcode/the-stack-v2",
        "https://huggingface.co/datasets/bigcode/the-stack-v2/tree/main",
        "datasets/bigcode/the-stack-v2",
    ],
)
def test_dataset_forms(source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    ref = parse_source(source)
    assert ref == HubRef("dataset", "bigcode/the-stack-v2")
    assert isinstance(ref, HubRef) and ref.url == "https://huggingface.co/datasets/bigcode/the-stack-v2"


def test_other_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "card.md").write_text("# c\n")
    assert parse_source("-") == StdinRef()
    assert parse_source("card.md") == LocalRef(Path("card.md"))
    assert parse_source("https://github.com/octo/tool") == GitHubRef("octo", "tool")
    assert parse_source("https://github.com/octo/tool.git") == GitHubRef("octo", "tool")
    assert parse_source("https://example.com/cards/x.md") == UrlRef("https://example.com/cards/x.md")
    assert parse_source("https://huggingface.co/blog/embeddings") == UrlRef("https://huggingface.co/blog/embeddings")


def test_local_path_wins_over_hub_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Qwen").mkdir()
    (tmp_path / "Qwen" / "Qwen3").write_text("# Local copy\n")
    card = load_card("Qwen/Qwen3")
    assert (card.id, card.name, card.url, card.kind) == ("Qwen3", "Local copy", None, "other")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("ftp://example.com/card.md", "the ftp:// scheme is not supported"),
        ("just-a-word", "it is not an existing file; give a local file, '-' for stdin, a hub model id ORG/NAME"),
        ("   ", "the source is empty"),
        ("a/b/c", "it is not an existing file"),
        ("-org/name", "'-org/name' is not a valid hub repo id: expected ORG/NAME"),
        ("org/na..me", "'org/na..me' is not a valid hub repo id"),
        ("org/" + "x" * 97, "at most 96 characters"),
        ("https://huggingface.co/spaces/org/demo", "is a Space"),
        (
            "https://huggingface.co/Qwen/Qwen3/blob/main/config.json",
            "give the repository URL https://huggingface.co/Qwen/Qwen3",
        ),
        ("https://huggingface.co/datasets", "names no dataset"),
        ("https://github.com/octo/tool/blob/main/docs/x.md", "give https://github.com/OWNER/REPO"),
        ("https:///card.md", "has no host"),
    ],
)
def test_unreadable_sources(source: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as raised:
        load_card(source)
    assert type(raised.value) is InputError
    assert expected in one_line_error(raised)


@pytest.mark.parametrize("source", ["missing.md", "./missing", "/no/such/dir/card.txt"])
def test_missing_file(source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SourceNotFound) as raised:
        load_card(source)
    assert one_line_error(raised) == f"no such file: {source}; check the path"


# --- bytes → text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "stdin is empty; give a card with text in it"),
        (b" \n\t\r\n", "stdin is empty; give a card with text in it"),
        (b"\xef\xbb\xbf  \n", "stdin is empty; give a card with text in it"),
        (b"# x\x00yz", "stdin is binary (NUL byte at offset 3), not a text card; give a Markdown or text file"),
        (b"# ok\n\xff\xfe", "stdin is not valid UTF-8 (byte offset 5); save it as UTF-8"),
        (b"\xef\xbb\xbf# ok\n\xc3(", "stdin is not valid UTF-8 (byte offset 8); save it as UTF-8"),
        ("# 한".encode("utf-16"), "stdin is UTF-16 encoded; save it as UTF-8"),
    ],
)
def test_undecodable_input(data: bytes, expected: str) -> None:
    with pytest.raises(InputError) as raised:
        load_card("-", stdin=io.BytesIO(data))
    assert one_line_error(raised) == expected


def test_bom_is_stripped_and_line_endings_kept() -> None:
    assert decode_card(b"\xef\xbb\xbf# Title\r\nbody\r\n", "f") == "# Title\r\nbody\r\n"


def test_oversized_local_file(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    path.write_bytes(b"a" * (2 * 1024 * 1024 + 1))
    with pytest.raises(InputError, match="larger than the 2 MB a card may have"):
        load_card(str(path))


# --- front matter ---------------------------------------------------------------------------------


def test_front_matter_becomes_json_safe_metadata(tmp_path: Path) -> None:
    path = tmp_path / "qwen3-embedding.md"
    path.write_text(MODEL_CARD, encoding="utf-8")
    card = load_card(str(path))
    assert card.metadata == {
        "license": "apache-2.0",
        "pipeline_tag": "feature-extraction",
        "library_name": "sentence-transformers",
        "base_model": "Qwen/Qwen3-4B",
        "release_date": "2025-06-05",
        "trained_at": "2025-06-01T12:30:00",
    }
    assert card.body_start == MODEL_CARD.index("# Qwen3-Embedding-4B")
    json.dumps(card.metadata, allow_nan=False)


def test_odd_yaml_values_are_made_json_safe() -> None:
    text = "---\n1: one\nnan: .nan\nwhen: {2024-01-02: launch}\nraw: !!binary aGk=\nitems: !!set {a: null}\n---\nbody\n"
    metadata, _ = parse_front_matter(text, "f")
    assert metadata == {"1": "one", "nan": "nan", "when": {"2024-01-02": "launch"}, "raw": "b'hi'", "items": ["a"]}
    json.dumps(metadata, allow_nan=False)


def test_front_matter_edge_cases() -> None:
    assert parse_front_matter("---\n---\n# x\n", "f") == ({}, 8)
    assert parse_front_matter("---\r\nlicense: mit\r\n---\r\n# x\r\n", "f") == ({"license": "mit"}, 24)
    assert parse_front_matter("---\nnot closed: true\n# x\n", "f") == ({}, 0)
    assert parse_front_matter("# x\n---\nlicense: mit\n---\n", "f") == ({}, 0)
    assert parse_front_matter("----\nlicense: mit\n---\n", "f") == ({}, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "---\nlicense: mit\nbad: : x\n---\n# x\n",
            "card.md: the front matter is not valid YAML at line 3 (mapping values are not allowed here); "
            "fix the YAML between the --- lines",
        ),
        ("---\n- a\n---\n# x\n", "card.md: the front matter must be a YAML mapping of key: value lines, not a list"),
        ("---\nplain\n---\n# x\n", "card.md: the front matter must be a YAML mapping of key: value lines, not a str"),
    ],
)
def test_broken_front_matter(text: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("card.md").write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_card("card.md")
    assert one_line_error(raised) == expected


@pytest.mark.parametrize(
    ("front_matter", "kind"),
    [
        ("task_categories: [text-generation]\nsize_categories: [1B<n]\npretty_name: The Stack v2", "dataset"),
        ("configs:\n- config_name: default", "dataset"),
        ("pipeline_tag: text-classification\nlicense: mit", "model"),
        ("model-index:\n- name: x", "model"),
        ("license: mit\ntags: [a]", "other"),
    ],
)
def test_kind_is_inferred_from_front_matter(front_matter: str, kind: str) -> None:
    card = load_card("-", stdin=io.BytesIO(f"---\n{front_matter}\n---\n# Card\n".encode()))
    assert card.kind == kind


# --- sections, names, digest ----------------------------------------------------------------------


def test_sections_skip_fences_and_partition_the_body() -> None:
    card = load_card("-", stdin=io.BytesIO(MODEL_CARD.encode()))
    assert [(s.title, s.level) for s in card.sections] == [
        ("Qwen3-Embedding-4B", 1),
        ("Model Overview", 2),
        ("Usage", 3),
    ]
    assert card.text[card.sections[0].start : card.sections[0].end].startswith("# Qwen3-Embedding-4B\n")
    assert card.text[card.sections[1].start : card.sections[1].end].startswith("## Model Overview ##\n")
    assert card.text[card.sections[2].start :].startswith("### Usage\n")
    assert [s.end for s in card.sections] == [card.sections[1].start, card.sections[2].start, len(card.text)]
    assert card.sections[0].start == card.body_start


def test_yaml_comments_in_front_matter_are_not_sections() -> None:
    text = "---\n# a yaml comment\nlicense: mit\n---\nplain\n## Real\n"
    card = load_card("-", stdin=io.BytesIO(text.encode()))
    assert card.metadata == {"license": "mit"}
    assert card.sections == (Section("Real", 2, text.index("## Real"), len(text)),)
    assert find_sections(text) == (Section("a yaml comment", 1, 4, text.index("## Real")), card.sections[0])


def test_identity_of_stdin_and_local_cards(tmp_path: Path) -> None:
    text = "no heading here\n"
    stdin_card = load_card("-", stdin=io.BytesIO(text.encode()))
    assert (stdin_card.source, stdin_card.id, stdin_card.name, stdin_card.url) == ("-", "stdin", "stdin", None)
    assert stdin_card.digest == "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    assert stdin_card.sections == () and stdin_card.body_start == 0

    path = tmp_path / "koelectra-small-v3.md"
    path.write_text("# KoELECTRA small\n", encoding="utf-8")
    file_card = load_card(str(path))
    assert (file_card.source, file_card.id, file_card.name) == (str(path), "koelectra-small-v3", "KoELECTRA small")


def test_directory_reads_its_readme(tmp_path: Path) -> None:
    repo = tmp_path / "the-stack-v2"
    repo.mkdir()
    with pytest.raises(SourceNotFound, match="is a directory without a README.md"):
        load_card(str(repo))
    (repo / "README.md").write_text("---\npretty_name: The Stack v2\ntask_categories: [text-generation]\n---\nText\n")
    card = load_card(str(repo))
    assert (card.id, card.name, card.kind) == ("the-stack-v2", "the-stack-v2", "dataset")


def test_korean_card_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "ko-model.md"
    path.write_bytes(KOREAN_CARD.encode("utf-8"))
    card = load_card(str(path))
    assert card.text == KOREAN_CARD
    assert card.name == "한국어 소형 모델"
    assert [s.title for s in card.sections] == ["한국어 소형 모델", "사용 방법"]
    usage = card.sections[1]
    assert card.text[usage.start : usage.end] == "## 사용 방법\n\n토크나이저와 함께 사용하세요.\n"
    assert card.text[card.body_start :].startswith("# 한국어")
    assert card.metadata == {"language": "ko", "pipeline_tag": "text-classification"}
    assert card.kind == "model"
    assert card.digest == "sha256:" + hashlib.sha256(KOREAN_CARD.encode("utf-8")).hexdigest()
