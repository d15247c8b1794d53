"""Hub cards through the real huggingface_hub code path, against the local fake hub."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from decompose.errors import AccessDenied, InputError, SourceNotFound
from decompose.sources import load_card
from tests.conftest import one_line_error
from tests.support.hub_server import FakeRepo, RunningServer, hub_server

QWEN_README = """---
license: mit
pipeline_tag: sentence-similarity
tags: [embedding]
---
# Qwen3-Embedding-4B

- Embedding Dimension: Up to 2560
"""

STACK_README = """---
pretty_name: The Stack v2
task_categories: [text-generation]
---
# The Stack v2

67.5 TB of source code.
"""

REPOS = {
    "Qwen/Qwen3-Embedding-4B": FakeRepo(
        readme=QWEN_README,
        info={
            "downloads": 123456,
            "likes": 321,
            "lastModified": "2025-06-20T10:11:12.000Z",
            "pipeline_tag": "feature-extraction",
            "library_name": "sentence-transformers",
            "cardData": {"license": "apache-2.0"},
            "tags": ["license:apache-2.0"],
        },
    ),
    "monologg/koelectra-small-v3-discriminator": FakeRepo(
        readme="# KoELECTRA\n", info={"tags": ["transformers", "license:cc-by-4.0"]}
    ),
    "bigcode/the-stack-v2": FakeRepo(
        kind="dataset", readme=STACK_README, gated="manual", granted_tokens=frozenset({"hf_granted"}),
        info={"downloads": 9000, "likes": 500, "cardData": {"license": "other"}},
    ),
    "org/no-card": FakeRepo(readme=None),
    "org/broken": FakeRepo(status=500),
}


@pytest.fixture(scope="module")
def hub_process() -> Iterator[RunningServer]:
    with hub_server(REPOS) as server:
        yield server


@pytest.fixture
def hub(hub_process: RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunningServer:
    """The module's fake hub with its request log cleared; HF_ENDPOINT points at it, no token, a fresh HF_HOME."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_ENDPOINT", hub_process.url)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    hub_process.requests.clear()
    return hub_process


@pytest.mark.parametrize(
    "source",
    [
        "Qwen/Qwen3-Embedding-4B",
        "https://huggingface.co/Qwen/Qwen3-Embedding-4B",
        "https://huggingface.co/Qwen/Qwen3-Embedding-4B/tree/main",
        "https://huggingface.co/Qwen/Qwen3-Embedding-4B/blob/main/README.md",
    ],
)
def test_model_card_with_hub_metadata(source: str, hub: RunningServer, tmp_path: Path) -> None:
    card = load_card(source)
    assert card.source == source
    assert card.text == QWEN_README
    assert (card.id, card.name, card.kind) == ("Qwen/Qwen3-Embedding-4B", "Qwen3-Embedding-4B", "model")
    assert card.url == "https://huggingface.co/Qwen/Qwen3-Embedding-4B"
    assert card.metadata == {
        "license": "apache-2.0",
        "pipeline_tag": "feature-extraction",
        "tags": ["embedding"],
        "downloads": 123456,
        "likes": 321,
        "last_modified": "2025-06-20T10:11:12+00:00",
        "gated": False,
        "library_name": "sentence-transformers",
    }
    assert card.body_start == QWEN_README.index("# Qwen3")
    assert [s.title for s in card.sections] == ["Qwen3-Embedding-4B"]
    assert [(r.method, r.path) for r in hub.requests] == [
        ("GET", "/api/models/Qwen/Qwen3-Embedding-4B"),
        ("HEAD", "/Qwen/Qwen3-Embedding-4B/resolve/main/README.md"),  # our size check, before downloading
        ("HEAD", "/Qwen/Qwen3-Embedding-4B/resolve/main/README.md"),
        ("GET", "/Qwen/Qwen3-Embedding-4B/resolve/main/README.md"),
    ]
    assert all("authorization" not in r.headers for r in hub.requests)
    assert not (tmp_path / "hf-home").exists()


def test_license_falls_back_to_the_license_tag(hub: RunningServer) -> None:
    card = load_card("monologg/koelectra-small-v3-discriminator")
    assert card.metadata["license"] == "cc-by-4.0"
    assert "pipeline_tag" not in card.metadata


def test_gated_dataset_without_token(hub: RunningServer) -> None:
    with pytest.raises(AccessDenied) as raised:
        load_card("https://huggingface.co/datasets/bigcode/the-stack-v2")
    assert one_line_error(raised) == (
        "dataset bigcode/the-stack-v2 is gated: set HF_TOKEN to a token that has accepted its terms"
    )


def test_gated_dataset_with_a_token_not_granted(hub: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_not_granted_secret")
    with pytest.raises(AccessDenied) as raised:
        load_card("https://huggingface.co/datasets/bigcode/the-stack-v2")
    message = one_line_error(raised)
    assert message == (
        "dataset bigcode/the-stack-v2 is gated and HF_TOKEN has no access: accept its terms at "
        "https://huggingface.co/datasets/bigcode/the-stack-v2 with that account"
    )
    assert "hf_not_granted_secret" not in message


def test_gated_dataset_with_a_granted_token(hub: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_granted")
    card = load_card("https://huggingface.co/datasets/bigcode/the-stack-v2")
    assert (card.id, card.name, card.kind) == ("bigcode/the-stack-v2", "the-stack-v2", "dataset")
    assert card.url == "https://huggingface.co/datasets/bigcode/the-stack-v2"
    assert card.metadata["gated"] == "manual"
    assert card.metadata["license"] == "other"
    assert card.metadata["pretty_name"] == "The Stack v2"
    assert {r.headers.get("authorization") for r in hub.requests} == {"Bearer hf_granted"}


def test_unknown_repo(hub: RunningServer) -> None:
    with pytest.raises(SourceNotFound) as raised:
        load_card("nobody/nothing")
    assert one_line_error(raised) == (
        f"model nobody/nothing not found on the hub at {hub.url}; check the id (if it is private, set HF_TOKEN)"
    )


def test_model_id_asked_as_a_dataset(hub: RunningServer) -> None:
    with pytest.raises(SourceNotFound, match="^dataset Qwen/Qwen3-Embedding-4B not found on the hub at "):
        load_card("https://huggingface.co/datasets/Qwen/Qwen3-Embedding-4B")


def test_repo_without_readme(hub: RunningServer) -> None:
    with pytest.raises(SourceNotFound) as raised:
        load_card("org/no-card")
    assert one_line_error(raised) == (
        f"model org/no-card on the hub at {hub.url} has no README.md, so there is no card to read"
    )


def test_hub_server_error(hub: RunningServer) -> None:
    with pytest.raises(SourceNotFound) as raised:
        load_card("org/broken")
    assert one_line_error(raised) == f"the hub at {hub.url} answered 500 for model org/broken; try again later"


def test_invalid_id_makes_no_request(hub: RunningServer) -> None:
    with pytest.raises(InputError, match="is not a valid hub repo id"):
        load_card("https://huggingface.co/org/na..me")
    assert hub.requests == []


def test_unreachable_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    with pytest.raises(SourceNotFound) as raised:
        load_card("Qwen/Qwen3-Embedding-4B", timeout=2)
    message = one_line_error(raised)
    assert message.startswith(f"cannot reach the hub at {endpoint} for model Qwen/Qwen3-Embedding-4B (")
    assert message.endswith("); check HF_ENDPOINT and the network")
