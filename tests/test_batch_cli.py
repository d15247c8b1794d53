"""`decompose batch` and `decompose cache stats` as a user runs them: summary, exit codes, files."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from decompose.batch import BatchReport
from decompose.cli import app
from decompose.cli.batch import ProgressBar
from decompose.llm import Usage
from tests.conftest import CARDS, EXCHANGES
from tests.support.batch_cards import quoting_responder, write_cards
from tests.support.openai_server import OpenAIServer

runner = CliRunner()
QWEN = CARDS / "qwen3-embedding-4b.md"
STACK = CARDS / "the-stack-v2.md"


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=input, env={"OPENAI_API_KEY": "test-key"})
    return result.exit_code, result.stdout, result.stderr


def live(server: OpenAIServer, tmp_path: Path) -> list[str]:
    return ["--base-url", server.base_url, "--cache", str(tmp_path / "cache.sqlite3")]


def test_all_succeeded_exits_0_with_a_summary_and_lines_on_stdout(tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text(f"# fixture cards\n\n{QWEN}\n   \n{STACK}\n{QWEN}\n", encoding="utf-8")
    code, out, err = run("batch", str(listing), "--replay", str(EXCHANGES), "--cache", str(tmp_path / "c"))
    assert code == 0, err
    ids = sorted(json.loads(line)["artifact"]["id"] for line in out.splitlines())
    assert ids == ["qwen3-embedding-4b", "the-stack-v2"]  # the repeated source is done once
    assert "2 sources: 2 decomposed (0 from the cache), 0 failed" in err
    assert "LLM usage: 2 requests" in err
    assert "OpenAI list price of gpt-4o-mini" in err  # the recordings are of OpenAI's endpoint


def test_any_failure_exits_1_and_names_each_failed_source_with_its_reason(tmp_path: Path) -> None:
    cards = write_cards(tmp_path / "cards", 3)
    missing = tmp_path / "cards" / "gone.md"
    failures = tmp_path / "failed.txt"
    listing = "\n".join([str(cards[0]), str(missing), *map(str, cards[1:])])
    with OpenAIServer(responder=quoting_responder) as server:
        code, out, err = run(
            "batch", "-", "-o", str(tmp_path / "out.jsonl"), "--failures", str(failures),
            "--price-in", "1", "--price-out", "2", *live(server, tmp_path), input=listing,
        )  # fmt: skip
    assert code == 1
    assert out == ""
    assert "4 sources: 3 decomposed (0 from the cache), 1 failed" in err
    assert f"  {missing}: no such file: {missing}; check the path" in err
    assert "cost $" in err and "$1.00 in, $2.00 out per 1M tokens, as given" in err
    assert failures.read_text(encoding="utf-8") == f"# no such file: {missing}; check the path\n{missing}\n"
    assert f"rerun them with 'decompose batch {failures}'" in err
    assert len((tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()) == 3


def test_the_failures_file_is_a_list_a_rerun_takes(tmp_path: Path) -> None:
    card = tmp_path / "late.md"
    failures = tmp_path / "failed.txt"
    listing = tmp_path / "list.txt"
    listing.write_text(f"{card}\n", encoding="utf-8")
    with OpenAIServer(responder=quoting_responder) as server:
        code, _, _ = run("batch", str(listing), "--failures", str(failures), *live(server, tmp_path))
        assert code == 1
        write_cards(tmp_path, 1)[0].rename(card)
        code, _, err = run("batch", str(failures), "--failures", str(failures), *live(server, tmp_path))
    assert code == 0, err
    assert failures.read_text(encoding="utf-8") == ""


def test_unknown_model_cost_is_unknown_not_zero(tmp_path: Path) -> None:
    cards = write_cards(tmp_path / "cards", 1)
    with OpenAIServer(responder=quoting_responder) as server:
        code, _, err = run("batch", "-", "-m", "local-model", *live(server, tmp_path), input=str(cards[0]))
    assert code == 0, err
    assert "cost unknown (no price for model 'local-model'" in err and "$0" not in err


def test_bad_lists_and_options_exit_2_with_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing here\n\n", encoding="utf-8")
    stdin_line = tmp_path / "stdin.txt"
    stdin_line.write_text("a.md\n-\n", encoding="utf-8")
    good = tmp_path / "good.txt"
    good.write_text(f"{QWEN}\n", encoding="utf-8")
    foreign = tmp_path / "notes.jsonl"
    foreign.write_text('{"mine": true}\n', encoding="utf-8")
    cases = [
        (("batch", str(tmp_path / "nope.txt")), "no such source list"),
        (("batch", str(empty)), "lists no sources"),
        (("batch", str(stdin_line)), "line 2: '-' (standard input) cannot be a batch source"),
        (("batch", str(good), "--price-in", "1"), "give both --price-in and --price-out"),
        (("batch", str(good), "-o", str(foreign)), "was not written by decompose batch"),
        (("batch", str(good), "-o", str(tmp_path / "no-dir" / "out.jsonl")), "does not exist"),
        (("batch", str(good), "--failures", str(tmp_path / "no-dir" / "failed.txt")), "does not exist"),
    ]
    for args, message in cases:
        code, _, err = run(*args)
        assert code == 2, (args, err)
        assert err.startswith("decompose: error: ") and message in err, err
        assert len(err.strip().splitlines()) == 1, err
    assert foreign.read_text(encoding="utf-8") == '{"mine": true}\n'


def test_cache_stats_shows_rows_cards_grounding_tokens_and_cost(tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite3"
    code, out, err = run("cache", "stats", "--cache", str(cache))
    assert code == 0, err
    assert "rows: 0 (0 cards)" in out and "estimated cost: $0.0000" in out
    listing = tmp_path / "list.txt"
    listing.write_text(f"{QWEN}\n{STACK}\n", encoding="utf-8")
    assert run("batch", str(listing), "--replay", str(EXCHANGES), "--cache", str(cache))[0] == 0
    cards = write_cards(tmp_path / "cards", 2)
    with OpenAIServer(responder=quoting_responder) as server:
        code, _, err = run("batch", "-", "-m", "local-model", *live(server, tmp_path), input="\n".join(map(str, cards)))
    assert code == 0, err
    code, out, err = run("cache", "stats", "--cache", str(cache))
    assert code == 0, err
    assert "rows: 4 (4 cards)" in out
    assert "capabilities: 20 (20 grounded, 100%)" in out
    assert "requests: 4" in out
    assert "gpt-4o-mini at https://api.openai.com/v1: 2 rows" in out
    assert "local-model at http://127.0.0.1:" in out and "cost unknown" in out
    assert "size on disk: " in out


def test_no_api_key_stops_the_batch_with_exit_2_after_its_summary(tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text(f"{QWEN}\n{STACK}\n", encoding="utf-8")
    result = runner.invoke(
        app, ["batch", str(listing), "-o", str(tmp_path / "out.jsonl"), "--cache", str(tmp_path / "c")],
        env={"OPENAI_API_KEY": None},
    )  # fmt: skip
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("2 sources: 0 decomposed")
    assert lines[-1].startswith("decompose: error: no API key")
    assert "Traceback" not in result.stderr


def test_the_progress_bar_shows_counts_tokens_and_an_eta() -> None:
    screen = io.StringIO()
    report = BatchReport(listed=5, skipped=1, done=2, cached=1, usage=Usage(1, 1200, 300))
    report.fail("x.md", "no such file")
    with ProgressBar(Console(file=screen, force_terminal=True, width=120)) as bar:
        bar.update(report)
    shown = screen.getvalue()
    assert "3/4" in shown and "cached 1  failed 1  1,500 tokens" in shown and "ETA" in shown


def test_batch_and_card_share_cached_results_when_given_the_same_options(tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite3"
    options = ("--cache", str(cache), "--max-reasks", "0", "--max-input-tokens", "9000")
    assert run("card", str(QWEN), "--replay", str(EXCHANGES), "-f", "json", *options)[0] == 0
    empty = tmp_path / "no-recordings"
    empty.mkdir()
    code, out, err = run("batch", "-", "--replay", str(empty), *options, input=f"{QWEN}\n")
    assert code == 0, err  # any request would have been a replay miss
    assert "1 decomposed (1 from the cache)" in err and "LLM usage: 0 requests" in err
    assert json.loads(out)["artifact"]["id"] == "qwen3-embedding-4b"
