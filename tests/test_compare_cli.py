"""`decompose compare` end to end: the golden Markdown page, byte-identical reruns, cache first, errors.

The two fixture cards are served by the fake hub under their real repo ids with hub facts (downloads,
likes, last modified, gate), and decomposed through the recorded exchanges, so the page is the one a
user would get, offline. Refresh the golden file after an intended change with
`DECOMPOSE_UPDATE_GOLDEN=1 python -m pytest tests/test_compare_cli.py` (see tests/golden/README.md).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from decompose.cli import app
from tests.conftest import CARDS, EXCHANGES, ROOT
from tests.support.hub_server import FakeRepo, RunningServer, hub_server

GOLDEN = ROOT / "tests" / "golden"
QWEN_ID = "Qwen/Qwen3-Embedding-4B"
STACK_URL = "https://huggingface.co/datasets/bigcode/the-stack-v2"
TOKEN = "hf_compare_test_token"
AS_OF = "2025-09-01"
LOCAL_CARDS = (str(CARDS / "qwen3-embedding-4b.md"), str(CARDS / "the-stack-v2.md"))
REPOS = {
    QWEN_ID: FakeRepo(
        kind="model",
        readme=(CARDS / "qwen3-embedding-4b.md").read_text(encoding="utf-8"),
        info={
            "downloads": 412_563,
            "likes": 187,
            "lastModified": "2025-06-20T09:14:00.000Z",
            "library_name": "sentence-transformers",
            "pipeline_tag": "feature-extraction",
            "cardData": {"license": "apache-2.0"},
        },
    ),
    "bigcode/the-stack-v2": FakeRepo(
        kind="dataset",
        readme=(CARDS / "the-stack-v2.md").read_text(encoding="utf-8"),
        gated="manual",
        granted_tokens=frozenset({TOKEN}),
        info={
            "downloads": 6_184,
            "likes": 412,
            "lastModified": "2024-04-22T16:05:00.000Z",
            "cardData": {"license": "other"},
        },
    ),
}
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["compare", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    with hub_server(REPOS) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.setenv("HF_TOKEN", TOKEN)
        yield server


def page(*extra: str) -> str:
    code, out, err = run(QWEN_ID, STACK_URL, "--replay", str(EXCHANGES), "--as-of", AS_OF, *extra)
    assert code == 0, err
    return out


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("DECOMPOSE_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"no golden file {path}; create it with DECOMPOSE_UPDATE_GOLDEN=1"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, (
        f"{name} differs from the golden file; if the change is intended, refresh it with "
        "DECOMPOSE_UPDATE_GOLDEN=1 python -m pytest tests/test_compare_cli.py"
    )


def test_markdown_page_matches_the_golden_file(hub: RunningServer) -> None:
    check_golden("qwen3-embedding-4b-vs-the-stack-v2.md", page())


def test_page_carries_title_ranks_table_capabilities_and_verdict(hub: RunningServer) -> None:
    text = page()
    data = json.loads(page("-f", "json"))
    qwen, stack = data["a"]["scores"]["rank"], data["b"]["scores"]["rank"]
    assert text.startswith("# Qwen3-Embedding-4B vs The Stack v2\n")
    assert f"| Rank | {qwen}/100 | {stack}/100 |" in text
    assert "| Type | Model | Dataset |" in text
    assert "| Access | open | gated |" in text
    assert "| Capabilities | 7 decomposed | 7 decomposed |" in text
    assert "+2 more capabilities" in text
    assert "\n## Verdict\n" in text and data["verdict"] in text
    assert "[^a1-1]: \"" in text  # evidence quotes as footnotes


def test_each_card_is_fetched_once(hub: RunningServer) -> None:
    page()
    info_requests = [request.path for request in hub.requests if request.path.startswith("/api/")]
    assert sorted(info_requests) == ["/api/datasets/bigcode/the-stack-v2", f"/api/models/{QWEN_ID}"]


def test_same_inputs_give_the_same_page_byte_for_byte_even_from_the_cache(hub: RunningServer, tmp_path: Path) -> None:
    cache = str(tmp_path / "c.sqlite3")
    empty = tmp_path / "no-recordings"
    empty.mkdir()
    for fmt in ("md", "html", "json"):
        first = page("-f", fmt, "--cache", cache)
        code, second, err = run(
            QWEN_ID, STACK_URL, "--replay", str(empty), "--cache", cache, "--as-of", AS_OF, "-f", fmt
        )
        assert code == 0, err  # served from the cache: any LLM request would have been a replay miss
        assert second == first


def test_json_gives_scores_with_inputs_and_reasons_matches_and_verdict(hub: RunningServer) -> None:
    data = json.loads(page("-f", "json"))
    adoption = data["a"]["scores"]["adoption"]
    assert adoption["inputs"] == {"downloads": 412_563, "likes": 187}
    assert adoption["reasons"] and 0 < adoption["score"] < 1
    assert data["b"]["scores"]["freshness"]["inputs"] == {"last_modified": "2024-04-22", "as_of": AS_OF}
    assert set(data["matching"]) == {"threshold", "pairs", "only_a", "only_b", "overlap"}
    assert len(data["a"]["capabilities"]) == 7  # all records, not just the top K
    assert data["verdict"].endswith(".") and data["as_of"] == AS_OF


def test_as_of_moves_only_freshness(hub: RunningServer) -> None:
    early, late = (json.loads(page("-f", "json", "--as-of", day)) for day in ("2025-07-01", "2026-07-01"))
    for side in ("a", "b"):
        assert early[side]["scores"]["freshness"]["score"] > late[side]["scores"]["freshness"]["score"]
        assert early[side]["scores"]["quality"] == late[side]["scores"]["quality"]


def test_weights_change_the_rank_and_show_on_the_page(hub: RunningServer) -> None:
    only_quality = json.loads(page("-f", "json", "--weights", "adoption=0,ecosystem=0,freshness=0,quality=1"))
    for side in ("a", "b"):
        assert only_quality[side]["scores"]["rank"] == round(only_quality[side]["scores"]["quality"]["score"] * 100)
    assert "rank weights: adoption 0%, quality 100%, ecosystem 0%, freshness 0%" in page(
        "--weights", "adoption=0,ecosystem=0,freshness=0,quality=1"
    )


def test_top_controls_how_many_capabilities_are_shown_in_full(hub: RunningServer) -> None:
    assert "more capabilities" not in page("--top", "7")
    brief = page("--top", "1")
    assert "+6 more capabilities" in brief and "### 2. " not in brief


def test_out_writes_the_page_and_nothing_on_failure(hub: RunningServer, tmp_path: Path) -> None:
    target = tmp_path / "page.html"
    assert page("-f", "html", "-o", str(target)) == ""
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    failed = tmp_path / "failed.md"
    code, _, err = run(QWEN_ID, "nobody/no-such-model", "--replay", str(EXCHANGES), "-o", str(failed))
    assert code == 2 and err.startswith("decompose: error: ") and err.count("\n") == 1
    assert not failed.exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--as-of", "2025-02-30"), "--as-of '2025-02-30' is not a date"),
        (("--weights", "speed=1"), "unknown sub-score 'speed'"),
        (("--weights", "quality=-1"), "0 or more"),
        (("--weights", "adoption=0,quality=0,ecosystem=0,freshness=0"), "at least one weight"),
        (("-f", "pdf"), "use one of md, html, json"),
    ],
)
def test_bad_options_exit_2_with_one_line(args: tuple[str, ...], expected: str) -> None:
    code, out, err = run(*LOCAL_CARDS, "--replay", str(EXCHANGES), *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and expected in err


def test_both_sources_from_stdin_is_refused() -> None:
    code, _, err = run("-", "-", "--replay", str(EXCHANGES))
    assert code == 2 and "only one SOURCE can be '-'" in err


def test_no_api_key_and_no_replay_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run(*LOCAL_CARDS, "--cache", str(tmp_path / "c"))
    assert code == 2 and "OPENAI_API_KEY" in err
