"""A flag means the same thing on every command: same name, default, help and environment variable,
and it really reaches the library whichever command it is given to.

The structural tests walk the commands Typer builds (Typer 0.29 carries its own click); the behaviour
tests run each command the way a user would (a scripted LLM server, a silent socket, cards on disk)
and look at what it did.
"""

from __future__ import annotations

import inspect
import json
import shlex
import socket
from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.core import TyperCommand, TyperGroup, TyperOption
from typer.testing import CliRunner

from decompose.api import Decomposer
from decompose.cli import app
from decompose.cli.common import RunOptions, SourceOptions
from decompose.llm import LLMSettings
from tests.conftest import ANSWERS, CARDS
from tests.support.openai_server import OpenAIServer, Reply, answer

PIPELINE_COMMANDS = ("card", "batch", "compare")
SOURCE_COMMANDS = (*PIPELINE_COMMANDS, "check")
QWEN = CARDS / "qwen3-embedding-4b.md"
FAITHFUL = json.loads((ANSWERS / "qwen3-embedding-4b.json").read_text(encoding="utf-8"))
UNFAITHFUL = json.loads((ANSWERS / "qwen3-embedding-4b.unfaithful.json").read_text(encoding="utf-8"))
DECOMPOSER = inspect.signature(Decomposer).parameters
LIBRARY_DEFAULTS = {
    "model": LLMSettings().model,
    "mode": LLMSettings().mode,
    "timeout": LLMSettings().timeout,
    "retries": LLMSettings().transport_retries,
    "max_reasks": LLMSettings().max_reasks,
    "max_bytes": DECOMPOSER["max_bytes"].default,
    "allow_private_urls": DECOMPOSER["allow_private_urls"].default,
    "fetch_timeout": DECOMPOSER["fetch_timeout"].default,
    "max_tokens_per_card": DECOMPOSER["max_tokens_per_card"].default,
    "max_input_tokens": DECOMPOSER["max_input_tokens"].default,
    "strict": DECOMPOSER["strict"].default,
}
SHORT_FLAGS = {"-f": "--format", "-o": "--out", "-m": "--model"}
ENVIRONMENT = {"model": "DECOMPOSE_MODEL", "base_url": "OPENAI_BASE_URL", "cache": "DECOMPOSE_CACHE"}
runner = CliRunner()


def root() -> TyperGroup:
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    return group


def every_command(
    group: TyperGroup | None = None, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, TyperCommand | TyperGroup]]:
    """Every command and group below the root, as (`decompose cache ls`, command), the root included."""
    group = group or root()
    yield " ".join(("decompose", *path)), group
    for name, command in group.commands.items():
        if isinstance(command, TyperGroup):
            yield from every_command(command, (*path, name))
        else:
            yield " ".join(("decompose", *path, name)), command


def option(command_name: str, name: str) -> TyperOption:
    command = root().commands[command_name]
    found = [param for param in command.params if param.name == name]
    assert found and isinstance(found[0], TyperOption), f"decompose {command_name} has no option for {name}"
    return found[0]


def described(param: TyperOption) -> tuple[Any, ...]:
    """What a user sees of an option: its flags, default, help, variable, type and range, panel, visibility."""
    return (
        tuple(param.opts),
        tuple(param.secondary_opts),
        param.default,
        param.help,
        param.envvar,
        param.type_descriptor.annotation,
        param.min,
        param.max,
        param.is_flag,
        param.rich_help_panel,
        param.hidden,
    )


@pytest.mark.parametrize("name", [field.name for field in fields(RunOptions)])
def test_every_shared_option_is_the_same_on_card_batch_and_compare(name: str) -> None:
    seen = {command: described(option(command, name)) for command in PIPELINE_COMMANDS}
    assert len(set(seen.values())) == 1, seen
    flags, _, default, help_text = seen["card"][:4]
    assert flags[0] == "--" + name.replace("_", "-") and help_text
    if name in LIBRARY_DEFAULTS:
        library = LIBRARY_DEFAULTS[name]
        assert default == library, f"{flags[0]} defaults to {default}, the library to {library}"


@pytest.mark.parametrize("name", [field.name for field in fields(SourceOptions)])
def test_check_takes_the_card_source_options_as_the_pipeline_commands_do(name: str) -> None:
    assert described(option("check", name)) == described(option("card", name))


def test_check_takes_no_llm_option_and_its_old_timeout_flag_is_hidden() -> None:
    names = {param.name for param in root().commands["check"].params}
    assert not names & {"model", "base_url", "strict", "cache", "replay"}
    assert option("check", "timeout").hidden


def test_prices_are_the_same_on_batch_and_cache_stats() -> None:
    group = root().commands["cache"]
    assert isinstance(group, TyperGroup)
    stats = {param.name: param for param in group.commands["stats"].params}
    for name in ("price_in", "price_out"):
        batch_price = option("batch", name)
        assert isinstance(stats[name], TyperOption) and described(stats[name]) == described(batch_price)


def test_short_flags_and_environment_variables_are_the_same_everywhere() -> None:
    for path, command in every_command():
        for param in command.params:
            if not isinstance(param, TyperOption):
                continue
            for short, long in SHORT_FLAGS.items():
                assert (short in param.opts) == (long in param.opts), f"{path}: {param.opts} (want {short}/{long})"
            if param.name in ENVIRONMENT:
                assert param.envvar == ENVIRONMENT[param.name], f"{path} {param.opts[0]}: envvar {param.envvar}"


def example_commands(epilog: str) -> list[list[str]]:
    """The `decompose ...` command lines quoted in an epilog, as argument lists after `decompose`."""
    lines = [part for index, part in enumerate(epilog.split("`")) if index % 2 == 1]
    return [shlex.split(line[line.index("decompose ") :])[1:] for line in lines if "decompose " in line]


def test_every_command_help_shows_examples_that_its_own_parser_accepts() -> None:
    for path, command in every_command():
        shown = runner.invoke(app, [*path.split()[1:], "--help"])
        assert shown.exit_code == 0 and "Examples" in shown.stdout, f"{path} --help has no examples"
        examples = example_commands(command.epilog or "")
        assert examples, f"{path}: no `decompose ...` example in its epilog"
        for args in examples:
            target: TyperCommand | TyperGroup = root()
            while isinstance(target, TyperGroup) and args and args[0] in target.commands:
                target = target.commands[args.pop(0)]
            assert not isinstance(target, TyperGroup), f"{path}: example names no command: {args}"
            try:
                target.make_context(target.name or "decompose", args)
            except typer.Exit:  # an example of `--help` itself
                pass
            except typer.TyperException as error:
                pytest.fail(f"{path}: example {shlex.join(args)!r} does not parse: {error}")


# -- the options reach the library, whichever command is given them --------------------------------


def invoke(command: str, source: Path | str, *extra: str) -> tuple[int, str, str]:
    """Run `command` on one card the way a user would, JSON out; compare gets the card as both sides."""
    args = {
        "card": ["card", str(source), "-f", "json"],
        "batch": ["batch", "-"],
        "compare": ["compare", str(source), str(source), "--as-of", "2025-09-01", "-f", "json"],
        "check": ["check", str(ANSWERS / "qwen3-embedding-4b.json"), "--source", str(source)],
    }[command]
    stdin = f"{source}\n" if command == "batch" else None
    result = runner.invoke(app, [*args, *extra], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def refused(command: str, code: int, err: str, message: str) -> None:
    """One source refused: exit 2 and one error line; batch goes on with the rest, so exit 1 and the reason."""
    if command == "batch":
        assert code == 1 and "1 failed" in err and message in err, err
    else:
        assert code == 2 and err.startswith("decompose: error: ") and err.count("\n") == 1, err
        assert message in err, err


@pytest.fixture
def llm(monkeypatch: pytest.MonkeyPatch) -> Callable[[Callable[[dict[str, Any]], Reply]], OpenAIServer]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-options")
    return lambda responder: OpenAIServer(responder=responder)


@pytest.mark.parametrize("command", SOURCE_COMMANDS)
def test_max_bytes_refuses_a_bigger_card_on_every_command(command: str, tmp_path: Path) -> None:
    card = tmp_path / "card.md"
    card.write_text(QWEN.read_text(encoding="utf-8"), encoding="utf-8")
    code, _, err = invoke(command, card, "--max-bytes", "100")
    refused(command, code, err, f"{card} is larger than the 100 bytes a card may have")


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A loopback URL whose server accepts the connection and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/card.md"


@pytest.mark.parametrize("command", SOURCE_COMMANDS)
def test_private_urls_and_the_fetch_timeout_reach_the_fetch_on_every_command(command: str, silent_url: str) -> None:
    code, _, err = invoke(command, silent_url, "--fetch-timeout", "0.2")
    refused(command, code, err, "pass --allow-private-urls")
    code, _, err = invoke(command, silent_url, "--fetch-timeout", "0.2", "--allow-private-urls")
    refused(command, code, err, f"cannot fetch {silent_url} (not done within 0.2 s)")


def test_check_still_takes_its_old_timeout_flag_for_the_fetch(silent_url: str) -> None:
    code, _, err = invoke("check", silent_url, "--timeout", "0.2", "--allow-private-urls")
    refused("check", code, err, "(not done within 0.2 s)")


@pytest.mark.parametrize("command", PIPELINE_COMMANDS)
def test_strict_drops_ungrounded_records_on_every_pipeline_command(command: str, llm: Any) -> None:
    def ungrounded_count(*strict: str) -> int:
        with llm(lambda body: answer(UNFAITHFUL)) as server:
            code, out, err = invoke(command, QWEN, "--base-url", server.base_url, "--no-cache", *strict)
        assert code == 0, err
        if command == "compare":
            return int(json.loads(out)["a"]["ungrounded"])
        records = json.loads(out)["capabilities"]
        assert records
        return sum(record["grounding"] == "ungrounded" for record in records)

    assert ungrounded_count() > 0
    assert ungrounded_count("--strict") == 0


@pytest.mark.parametrize("command", PIPELINE_COMMANDS)
@pytest.mark.parametrize("how", ["flag", "environment"])
def test_the_model_reaches_the_endpoint_on_every_pipeline_command(
    command: str, how: str, llm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    if how == "environment":
        monkeypatch.setenv("DECOMPOSE_MODEL", "local-model")
    chosen = ("-m", "local-model") if how == "flag" else ()
    with llm(lambda body: answer(FAITHFUL)) as server:
        code, _, err = invoke(command, QWEN, "--base-url", server.base_url, "--no-cache", "--max-reasks", "0", *chosen)
    assert code == 0, err
    assert [request.body["model"] for request in server.requests] == ["local-model"]


@pytest.mark.parametrize("command", PIPELINE_COMMANDS)
def test_a_prompt_budget_too_small_is_a_usage_error_before_any_request(command: str, llm: Any) -> None:
    with llm(lambda body: answer(FAITHFUL)) as server:
        code, _, err = invoke(command, QWEN, "--base-url", server.base_url, "--max-input-tokens", "300")
    assert code == 2 and err.count("\n") == 1 and "--max-input-tokens 300 is too small" in err, err
    assert server.requests == []
