"""Faults survived: every LLM endpoint fault through `Decomposer` (and the CLI), the per-card token
cap, and storage that stays whole when a run fails or a writer is killed.

Each endpoint fault has an expected behaviour: transport faults are retried (honouring Retry-After)
up to the limit, answer failures are re-asked with the last error only, and what cannot be
recovered ends in one error naming the card, the step and the cause, within bounded time, with
nothing cached.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from decompose import Decomposer, LLMSettings
from decompose.cli import app
from decompose.errors import ConfigError, LLMError
from decompose.llm import StructuredLLM
from decompose.llm.budget import TokenBudget
from decompose.llm.retry import BackoffWait
from decompose.records import CapabilityAnswer, Decomposition
from decompose.store import Store
from tests.conftest import ANSWERS, CARDS, EXCHANGES
from tests.support.openai_server import OpenAIServer, Reply, answer, drop, error, hang, raw, refusal
from tests.test_schema import make_decomposition_data
from tests.test_store import KEY_FIELDS

QWEN = CARDS / "qwen3-embedding-4b.md"
VALID = json.loads((ANSWERS / "qwen3-embedding-4b.json").read_text(encoding="utf-8"))
INVALID = {"capabilities": [{"name": "x", "description": "too short"}]}
HALF_JSON = json.dumps(VALID)[:200]
WRAPPED = (
    f"<think>The card says {{2560}}; answer as JSON.</think>\nHere it is:\n```json\n{json.dumps(VALID)}\n```\nDone."
)
BOUND = 10.0  # seconds any fault may take to end, with the tiny backoff below
TIMEOUT = 1.0
runner = CliRunner()


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache.sqlite3"


def settings_for(server: OpenAIServer, **overrides: Any) -> LLMSettings:
    options: dict[str, Any] = {
        "base_url": server.base_url,
        "api_key": "sk-test-faults",
        "timeout": TIMEOUT,
        "backoff_initial": 0.001,
        "backoff_max": 0.05,
        "transport_retries": 2,
        "max_reasks": 1,
        **overrides,
    }
    return LLMSettings(**options)


def decompose_with(
    script: list[Reply], cache: Path, **overrides: Any
) -> tuple[Decomposition | LLMError, OpenAIServer, float]:
    """Run the Qwen card against a scripted endpoint; the result or the LLMError, and how long it took."""
    cap = overrides.pop("max_tokens_per_card", None)
    started = time.monotonic()
    with OpenAIServer(script) as server:
        with Decomposer(settings_for(server, **overrides), cache_path=cache, max_tokens_per_card=cap) as decomposer:
            try:
                outcome: Decomposition | LLMError = decomposer.decompose(str(QWEN))
            except LLMError as failure:
                outcome = failure
    return outcome, server, time.monotonic() - started


def cached_rows(cache: Path) -> int:
    if not cache.exists():
        return 0
    with Store(cache) as store:
        return len(store.entries())


# -- faults the run survives ----------------------------------------------------------------------

RECOVERED = {
    "429 with Retry-After": [error(429, {"Retry-After": "0.2"}), answer(VALID)],
    "429 without Retry-After": [error(429), answer(VALID)],
    "500": [error(500), answer(VALID)],
    "502": [error(502), answer(VALID)],
    "503": [error(503), answer(VALID)],
    "dropped connection": [drop(), answer(VALID)],
    "hang (request timeout)": [hang(5), answer(VALID)],
    "half a JSON answer": [raw(HALF_JSON), answer(VALID)],
    "JSON that breaks the schema": [answer(INVALID), answer(VALID)],
    "think block and code fences": [raw(WRAPPED)],
}


@pytest.mark.parametrize("script", RECOVERED.values(), ids=RECOVERED.keys())
def test_recoverable_faults_end_in_a_cached_result(script: list[Reply], cache: Path) -> None:
    outcome, server, elapsed = decompose_with(script, cache)
    assert isinstance(outcome, Decomposition), outcome
    assert len(outcome.capabilities) == len(VALID["capabilities"])
    assert outcome.provenance.requests == len(script) == len(server.requests)
    assert elapsed < BOUND
    assert cached_rows(cache) == 1


def test_retry_after_is_honoured(cache: Path) -> None:
    _, server, _ = decompose_with([error(429, {"Retry-After": "0.3"}), answer(VALID)], cache, backoff_max=1.0)
    first, second = server.requests
    assert second.received_at - first.received_at >= 0.3


def test_backoff_is_exponential_with_jitter() -> None:
    """Without Retry-After, the n-th wait is initial × 2^(n-1) plus up to `initial` of random jitter,
    so clients that failed together do not retry together."""
    backoff = BackoffWait(initial=0.1, maximum=10)
    for attempt, low in ((1, 0.1), (2, 0.2), (3, 0.4)):
        state: Any = SimpleNamespace(attempt_number=attempt, outcome=None)
        waits = {backoff(state) for _ in range(20)}
        assert all(low <= wait <= low + 0.1 for wait in waits)
        assert len(waits) > 1


def test_transport_retry_resends_the_same_request(cache: Path) -> None:
    _, server, _ = decompose_with([error(503), drop(), answer(VALID)], cache)
    bodies = [request.body for request in server.requests]
    assert bodies[0] == bodies[1] == bodies[2]


# -- faults that end the card ---------------------------------------------------------------------

FAILED = {
    "429 every time": ([error(429)] * 3, "endpoint {endpoint} failed after 3 attempts: 429 Too Many Requests"),
    "500 every time": ([error(500)] * 3, "endpoint {endpoint} failed after 3 attempts: 500 Internal Server Error"),
    "502 every time": ([error(502)] * 3, "endpoint {endpoint} failed after 3 attempts: 502 Bad Gateway"),
    "503 every time": ([error(503)] * 3, "endpoint {endpoint} failed after 3 attempts: 503 Service Unavailable"),
    "dropped every time": ([drop()] * 3, "endpoint {endpoint} failed after 3 attempts: connection failed"),
    "hangs every time": ([hang(5)] * 3, "endpoint {endpoint} failed after 3 attempts: no answer within 1 s (timeout)"),
    "half JSON twice": (
        [raw(HALF_JSON)] * 2,
        "answer failed validation after 2 attempts: 1 validation error for CapabilityAnswer: answer: Invalid JSON",
    ),
    "schema broken twice": ([answer(INVALID)] * 2, "answer failed validation after 2 attempts: 5 validation errors"),
    "finish_reason=length": ([raw(HALF_JSON, finish_reason="length")], "answer truncated at max_output_tokens=4096"),
    "refusal": ([refusal("I can't help with that.")], "the model refused to answer: I can't help with that."),
}


@pytest.mark.parametrize(("script", "cause"), FAILED.values(), ids=FAILED.keys())
def test_unrecoverable_faults_name_card_step_and_cause_and_cache_nothing(
    script: list[Reply], cause: str, cache: Path
) -> None:
    outcome, server, elapsed = decompose_with(script, cache)
    assert isinstance(outcome, LLMError)
    message = str(outcome)
    assert message.startswith(f"card {QWEN}: extract: ")
    assert cause.format(endpoint=server.base_url) in message
    assert "\n" not in message and "Traceback" not in message
    assert (outcome.card, outcome.step) == (str(QWEN), "extract")
    assert len(server.requests) == len(script)
    assert elapsed < BOUND
    assert cached_rows(cache) == 0


# -- re-asks ----------------------------------------------------------------------------------------


def test_a_reask_is_the_first_request_plus_the_last_answer_and_its_error_only(cache: Path) -> None:
    script = [answer(INVALID), raw(HALF_JSON), answer(VALID)]
    outcome, server, _ = decompose_with(script, cache, max_reasks=2)
    assert isinstance(outcome, Decomposition)
    first, second, third = server.requests
    original = first.body["messages"]
    for request, previous in ((second, json.dumps(INVALID)), (third, HALF_JSON)):
        messages = request.body["messages"]
        assert messages[:-2] == original  # never the whole history
        answer_message, error_message = messages[-2:]
        assert answer_message == {"role": "assistant", "content": previous}
        assert error_message["role"] == "user" and error_message["content"].startswith("Your previous answer")
        growth = len(json.dumps(answer_message)) + len(json.dumps(error_message)) + 4  # two ", " separators
        assert request.size <= first.size + growth


def test_reasks_never_touch_the_callers_messages_sync_or_async() -> None:
    messages = [{"role": "system", "content": "Decompose cards."}, {"role": "user", "content": QWEN.read_text()}]
    kept = copy.deepcopy(messages)

    async def ask_async(llm: StructuredLLM) -> Any:
        async with llm:
            return await llm.aask(messages, CapabilityAnswer)

    for mode in ("json", "md_json", "json_schema", "tools"):
        with OpenAIServer([answer(INVALID), answer(VALID), answer(INVALID), answer(VALID)]) as server:
            with StructuredLLM(settings_for(server, mode=mode)) as llm:
                llm.ask(messages, CapabilityAnswer)
            asyncio.run(ask_async(StructuredLLM(settings_for(server, mode=mode))))
        assert messages == kept, mode


# -- retry limits from the CLI ----------------------------------------------------------------------


def run_cli(server: OpenAIServer, cache: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(
        app,
        ["card", str(QWEN), "--base-url", server.base_url, "--cache", str(cache), "--timeout", "1", *args],
        env={"OPENAI_API_KEY": "sk-test-cli"},
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(("retries", "code", "requests"), [(1, 1, 2), (2, 0, 3)])
def test_retries_are_set_from_the_cli(retries: int, code: int, requests: int, cache: Path) -> None:
    no_wait = {"Retry-After": "0"}
    with OpenAIServer([error(503, no_wait), error(503, no_wait), answer(VALID)]) as server:
        exit_code, _, err = run_cli(server, cache, "--retries", str(retries))
    assert exit_code == code
    assert len(server.requests) == requests
    if code:
        cause = f"endpoint {server.base_url} failed after 2 attempts: 503 Service Unavailable"
        assert err == f"decompose: error: card {QWEN}: extract: {cause}\n"


def test_reasks_are_set_from_the_cli(cache: Path) -> None:
    with OpenAIServer([answer(INVALID), answer(VALID)]) as server:
        exit_code, _, err = run_cli(server, cache, "--max-reasks", "0")
    assert exit_code == 1 and len(server.requests) == 1
    assert "answer failed validation after 1 attempts" in err


# -- the per-card token cap -------------------------------------------------------------------------


def tokens_of_one_invalid_answer(cache: Path) -> int:
    """What the scripted server bills for one request of this card answered with INVALID."""
    _, server, _ = decompose_with([answer(INVALID)], cache, max_reasks=0)
    return server.requests[0].size // 4 + len(json.dumps(INVALID)) // 4


def test_the_token_cap_ends_runaway_reasks(tmp_path: Path) -> None:
    per_request = tokens_of_one_invalid_answer(tmp_path / "probe.sqlite3")
    cap = per_request + per_request // 2  # room for one answered request, not two
    cache = tmp_path / "cache.sqlite3"
    outcome, server, elapsed = decompose_with([answer(INVALID)] * 6, cache, max_reasks=5, max_tokens_per_card=cap)
    assert isinstance(outcome, LLMError)
    message = str(outcome)
    assert message.startswith(f"card {QWEN}: extract: token cap reached: ")
    assert f"the cap is {cap} per card (--max-tokens-per-card)" in message
    assert len(server.requests) == 2  # not the 6 max_reasks would allow
    assert elapsed < BOUND
    assert cached_rows(cache) == 0


def test_the_token_cap_counts_failed_attempts(tmp_path: Path) -> None:
    """A cap that one clean answer fits in is still crossed by a failed attempt plus its re-ask."""
    per_request = tokens_of_one_invalid_answer(tmp_path / "probe.sqlite3")
    cap = per_request * 3 // 2
    cache = tmp_path / "cache.sqlite3"
    clean, _, _ = decompose_with([answer(VALID)], tmp_path / "clean.sqlite3", max_tokens_per_card=cap * 2)
    assert isinstance(clean, Decomposition)
    outcome, server, _ = decompose_with([answer(INVALID), answer(VALID)], cache, max_tokens_per_card=cap)
    assert isinstance(outcome, LLMError) and "token cap reached" in str(outcome)
    assert cached_rows(cache) == 0


def test_the_token_cap_from_the_cli(cache: Path) -> None:
    with OpenAIServer([answer(INVALID), answer(VALID)]) as server:
        exit_code, out, err = run_cli(server, cache, "--max-tokens-per-card", "10")
    assert exit_code == 1 and out == ""
    assert err.startswith(f"decompose: error: card {QWEN}: extract: token cap reached: ")
    assert "the cap is 10 per card (--max-tokens-per-card)" in err and err.count("\n") == 1
    assert len(server.requests) == 1
    assert cached_rows(cache) == 0


def test_one_budget_spans_every_ask_for_a_card() -> None:
    """Chunked extraction asks several times per card: a budget spent by one ask stops the next
    before it sends anything."""
    messages = [{"role": "user", "content": "Card text."}]
    with OpenAIServer([answer(VALID), answer(VALID)]) as server, StructuredLLM(settings_for(server)) as llm:
        probe = TokenBudget(None)
        llm.ask(messages, CapabilityAnswer, budget=probe)
        budget = TokenBudget(probe.spent.prompt_tokens + probe.spent.completion_tokens)
        llm.ask(messages, CapabilityAnswer, budget=budget)
        with pytest.raises(LLMError, match="token cap reached: .* in 1 requests"):
            llm.ask(messages, CapabilityAnswer, budget=budget, step="extract")
        assert len(server.requests) == 2


def test_async_asks_charge_the_budget_too() -> None:
    async def ask(llm: StructuredLLM, budget: TokenBudget) -> None:
        async with llm:
            await llm.aask([{"role": "user", "content": "Card text."}], CapabilityAnswer, budget=budget)

    with OpenAIServer([answer(INVALID), answer(INVALID)]) as server:
        with pytest.raises(LLMError, match="token cap reached"):
            asyncio.run(ask(StructuredLLM(settings_for(server)), TokenBudget(1)))
        assert len(server.requests) == 1


def test_a_cap_below_one_is_a_usage_error() -> None:
    with pytest.raises(ConfigError, match="--max-tokens-per-card must be a positive number"):
        Decomposer(LLMSettings(replay_dir=EXCHANGES), max_tokens_per_card=0)


# -- storage ------------------------------------------------------------------------------------------


def test_a_failing_run_leaves_no_partial_output_and_no_temp_files(tmp_path: Path) -> None:
    """The first card succeeds, the second fails: the output file keeps its old content, whole."""
    out = tmp_path / "out" / "result.json"
    out.parent.mkdir()
    out.write_text("previous result\n")
    with OpenAIServer([answer(VALID), answer(INVALID), answer(INVALID)]) as server:
        result = runner.invoke(
            app,
            ["card", str(QWEN), str(CARDS / "the-stack-v2.md"), "--base-url", server.base_url, "-o", str(out)],
            env={"OPENAI_API_KEY": "sk-test-out"},
        )
    assert result.exit_code == 1 and "the-stack-v2.md" in result.stderr
    assert out.read_text() == "previous result\n"
    assert sorted(path.name for path in out.parent.iterdir()) == ["result.json"]


def test_output_to_a_directory_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()
    result = runner.invoke(app, ["schema", "-o", str(target)])
    assert result.exit_code == 2
    assert result.stderr == f"decompose: error: cannot write {target} (Is a directory); choose another output path\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["taken"]


def test_a_corrupt_cache_is_moved_aside_with_a_warning_and_rebuilt(tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite3"
    garbage = b"not a database\x00" * 100
    cache.write_bytes(garbage)
    environment = {**os.environ, "DECOMPOSE_CACHE": str(cache), "OPENAI_API_KEY": "sk-test-corrupt"}
    with OpenAIServer([answer(VALID)]) as server:
        command = [str(Path(sys.executable).parent / "decompose"), "card", str(QWEN), "--base-url", server.base_url]
        first = subprocess.run(command, capture_output=True, text=True, timeout=60, env=environment)
    assert first.returncode == 0, first.stderr
    assert "is corrupt" in first.stderr and "moved it to" in first.stderr and "Traceback" not in first.stderr
    [moved] = [path for path in tmp_path.iterdir() if ".corrupt-" in path.name]
    assert moved.read_bytes() == garbage
    assert cached_rows(cache) == 1


KILLED_WRITER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from decompose.records import Decomposition
    from decompose.store import CacheKey, Store

    cache, body = sys.argv[1:]
    fields = json.loads(Path(body).read_text())
    decomposition = Decomposition.model_validate(fields["decomposition"])
    with Store(Path(cache)) as store:
        n = 0
        while True:
            store.put(CacheKey.build(**{**fields["key"], "params": {"n": n}}), decomposition)
            n += 1
            print(n, flush=True)
    """
)


@pytest.mark.parametrize("rows_before_kill", [1, 25, 60])
def test_a_writer_killed_mid_write_leaves_a_readable_cache(rows_before_kill: int, tmp_path: Path) -> None:
    cache, body = tmp_path / "killed.sqlite3", tmp_path / "input.json"
    body.write_text(json.dumps({"decomposition": make_decomposition_data(), "key": KEY_FIELDS}))
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(cache), str(body)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    try:
        for line in writer.stdout:
            if int(line) >= rows_before_kill:
                break
        os.kill(writer.pid, signal.SIGKILL)  # while it is busy writing the next rows
    finally:
        writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL, writer.stderr.read() if writer.stderr else ""
    with sqlite3.connect(cache) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with Store(cache) as store:
        entries = store.entries()
        assert len(entries) >= rows_before_kill
        assert all(store.load(entry.key) is not None for entry in entries)  # every row validates
