"""Security guarantees: the private-address guard, the size limit, secrets that never leak, and
a package that never unpickles, evals, loads YAML unsafely or builds SQL from strings."""

from __future__ import annotations

import ast
import io
import ipaddress
import json
import logging
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from decompose.cli import app
from decompose.errors import InputError, SourceNotFound
from decompose.sources import guard, load_card
from tests.conftest import ANSWERS, CARDS, EXCHANGES
from tests.support.hub_server import FakeRepo, Route, hub_server, web_server
from tests.support.openai_server import OpenAIServer, answer, error

PACKAGE = Path(__file__).resolve().parent.parent / "decompose"
QWEN = CARDS / "qwen3-embedding-4b.md"
VALID = json.loads((ANSWERS / "qwen3-embedding-4b.json").read_text(encoding="utf-8"))
runner = CliRunner()


# -- the private-address guard ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "a loopback"),
        ("127.255.0.9", "a loopback"),
        ("::1", "a loopback"),
        ("10.1.2.3", "a private"),
        ("172.16.0.1", "a private"),
        ("192.168.1.1", "a private"),
        ("fd00:ec2::254", "a private"),
        ("169.254.169.254", "a link-local"),
        ("fe80::1", "a link-local"),
        ("0.0.0.0", "an unspecified"),
        ("::", "an unspecified"),
        ("224.0.0.1", "a multicast"),
        ("ff02::1", "a multicast"),
        ("100.64.0.1", "a non-public"),  # carrier-grade NAT
        ("::ffff:127.0.0.1", "a loopback"),  # IPv4-mapped
        ("::ffff:169.254.169.254", "a link-local"),
        ("::127.0.0.1", "a loopback"),  # IPv4-compatible
        ("2002:7f00:1::", "a loopback"),  # 6to4 around 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "a link-local"),  # NAT64 around 169.254.169.254
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "a private"),  # Teredo around 10.0.0.1
    ],
)
def test_non_public_addresses_are_blocked(address: str, reason: str) -> None:
    assert guard.blocked_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.215.14", "2606:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert guard.blocked_reason(ipaddress.ip_address(address)) is None


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Names that resolve as the test says; everything else as usual."""
    names: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def resolve(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in names:
            return real(host, port, *args, **kwargs)
        family = {4: socket.AF_INET, 6: socket.AF_INET6}
        return [
            (family[ipaddress.ip_address(a).version], socket.SOCK_STREAM, 6, "", (a, port)) for a in names[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return names


def test_one_private_address_among_public_ones_is_enough_to_refuse(fake_dns: dict[str, list[str]]) -> None:
    fake_dns["mixed.example"] = ["93.184.215.14", "10.0.0.7"]
    with pytest.raises(InputError) as raised:
        load_card("https://mixed.example/card.md")
    assert str(raised.value) == (
        "refused https://mixed.example/card.md: mixed.example resolves to 10.0.0.7, a private address; "
        "URL sources may only reach public addresses; pass --allow-private-urls to read from a private network"
    )


def test_a_name_that_does_not_resolve_is_not_found(fake_dns: dict[str, list[str]]) -> None:
    with pytest.raises(SourceNotFound, match=r"^cannot fetch https://no-such-host\.invalid/c\.md \(no-such-host"):
        load_card("https://no-such-host.invalid/c.md")


def test_operator_endpoints_are_not_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    """HF_ENDPOINT and the LLM base URL live on 127.0.0.1 here, and no flag is needed for them."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-operator")
    repo = FakeRepo(readme=QWEN.read_text(encoding="utf-8"))
    with hub_server({"Qwen/Qwen3-Embedding-4B": repo}) as hub, OpenAIServer([answer(VALID)]) as llm:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        result = runner.invoke(app, ["card", "Qwen/Qwen3-Embedding-4B", "--base-url", llm.base_url, "-f", "json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["artifact"]["id"] == "Qwen/Qwen3-Embedding-4B"


def test_allow_private_urls_lets_a_url_source_reach_a_private_address() -> None:
    with web_server({"/card.md": Route(QWEN.read_text(encoding="utf-8"))}) as web:
        url = f"{web.url}/card.md"
        refused = runner.invoke(app, ["card", url, "--replay", str(EXCHANGES)])
        allowed = runner.invoke(app, ["card", url, "--replay", str(EXCHANGES), "--allow-private-urls", "-f", "json"])
    assert refused.exit_code == 2 and "--allow-private-urls" in refused.stderr
    assert allowed.exit_code == 0, allowed.stderr
    assert json.loads(allowed.stdout)["artifact"]["url"] == url


# -- the size limit -----------------------------------------------------------------------------------


def test_max_bytes_applies_to_every_source_form(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    text = QWEN.read_text(encoding="utf-8")
    size = len(text.encode())
    local = tmp_path / "card.md"
    local.write_text(text, encoding="utf-8")
    with hub_server({"Qwen/Qwen3-Embedding-4B": FakeRepo(readme=text)}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        with web_server({"/card.md": Route(text), "/repos/o/r/readme": Route(text)}) as web:
            monkeypatch.setenv("GITHUB_API_URL", web.url)
            sources = {
                "local": lambda limit: load_card(str(local), max_bytes=limit),
                "stdin": lambda limit: load_card("-", stdin=io.BytesIO(text.encode()), max_bytes=limit),
                "hub": lambda limit: load_card("Qwen/Qwen3-Embedding-4B", max_bytes=limit),
                "github": lambda limit: load_card("https://github.com/o/r", max_bytes=limit),
                "url": lambda limit: load_card(f"{web.url}/card.md", max_bytes=limit, allow_private_urls=True),
            }
            for name, load in sources.items():
                assert load(size).text == text, name
                with pytest.raises(InputError, match=f"larger than the {size - 1} bytes a card may have"):
                    load(size - 1)


def test_max_bytes_from_the_cli(tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite3"
    args = ["card", str(QWEN), "--replay", str(EXCHANGES), "--max-bytes", "1024", "--cache", str(cache)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr == (
        f"decompose: error: {QWEN} is larger than the 1 KB a card may have; "
        "give the card itself, not a data file (or raise --max-bytes)\n"
    )
    assert not cache.exists()


# -- secrets --------------------------------------------------------------------------------------------

OPENAI_KEY = "sk-test-PLANTED-4f1c9a7e2b"
HF_TOKEN = "hf_PLANTEDq8w7e6r5t4y3"
GITHUB_TOKEN = "ghp_PLANTEDz9x8c7v6b5"
SECRETS = (OPENAI_KEY, HF_TOKEN, GITHUB_TOKEN, "PLANTED")


@pytest.fixture
def debug_log(tmp_path: Path) -> Iterator[Path]:
    """Every logger at DEBUG into one file, as a user chasing a problem would run it."""
    path = tmp_path / "debug.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
        handler.close()


def test_planted_secrets_appear_in_no_file_log_output_or_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, debug_log: Path
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("HF_TOKEN", HF_TOKEN)
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    cache, fixtures, out = tmp_path / "cache.sqlite3", tmp_path / "fixtures", tmp_path / "out.json"
    text = QWEN.read_text(encoding="utf-8")
    repos = {
        "Qwen/Qwen3-Embedding-4B": FakeRepo(readme=text, gated="manual", granted_tokens=frozenset({HF_TOKEN})),
        "bigcode/the-stack-v2": FakeRepo(kind="dataset", readme="# Stack\n", gated="manual"),
    }
    script = [answer(VALID), error(401), error(400), error(429), error(503)]
    captured: list[str] = []

    def cli(*args: str) -> int:
        result = runner.invoke(app, list(args))
        captured.extend([result.stdout, result.stderr, repr(result.exception)])
        return result.exit_code

    github = web_server({"/repos/o/r/readme": Route(status=401)})
    with hub_server(repos) as hub, OpenAIServer(script) as llm, github as gh:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("GITHUB_API_URL", gh.url)
        common = ["--base-url", llm.base_url, "--cache", str(cache), "--retries", "0"]
        recorded = ("--record", str(fixtures), "-f", "json", "-o", str(out))
        assert cli("card", "Qwen/Qwen3-Embedding-4B", *common, *recorded) == 0
        assert cli("card", "Qwen/Qwen3-Embedding-4B", *common, "-f", "yaml") == 0  # from the cache
        assert cli("cache", "ls", "--cache", str(cache)) == 0
        for _ in range(4):  # the endpoint answers 401, 400, 429, 503
            assert cli("card", str(CARDS / "the-stack-v2.md"), *common) == 1
        assert cli("card", "https://huggingface.co/datasets/bigcode/the-stack-v2", *common) == 2
        assert cli("card", "https://github.com/o/r", *common) == 2
        assert llm.requests[0].headers["authorization"] == f"Bearer {OPENAI_KEY}"  # the key was really used
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert {out, debug_log} <= set(written) and any(path.suffix == ".json" for path in fixtures.iterdir())
    assert debug_log.stat().st_size > 0
    for path in written:
        content = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in content, (path, secret)
    for text_seen in captured:
        for secret in SECRETS:
            assert secret not in text_seen, (secret, text_seen)


def test_a_key_quoted_back_by_the_endpoint_is_not_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Some OpenAI-compatible proxies put the key they were sent into their error text."""
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    echo = {"error": {"message": f"Incorrect API key provided: {OPENAI_KEY}"}}
    with OpenAIServer([error(400, body=echo)]) as llm:
        result = runner.invoke(app, ["card", str(QWEN), "--base-url", llm.base_url, "--cache", str(tmp_path / "c")])
    assert result.exit_code == 1
    assert result.stderr.endswith("(400 Bad Request): Incorrect API key provided: [OPENAI_API_KEY]\n")
    assert "PLANTED" not in result.stderr + result.stdout


# -- plain data only --------------------------------------------------------------------------------


def test_fixtures_and_cache_rows_are_plain_json(tmp_path: Path) -> None:
    for path in EXCHANGES.glob("*.json"):
        assert set(json.loads(path.read_text(encoding="utf-8"))) == {"request", "response"}
    cache = tmp_path / "cache.sqlite3"
    assert runner.invoke(app, ["card", str(QWEN), "--replay", str(EXCHANGES), "--cache", str(cache)]).exit_code == 0
    with sqlite3.connect(cache) as conn:
        bodies = [body for (body,) in conn.execute("SELECT body FROM decompositions")]
    assert len(bodies) == 1 and json.loads(bodies[0])["schema_version"] == "1"


UNSAFE_YAML = {"unsafe_load", "unsafe_load_all", "full_load", "full_load_all"}
SAFE_LOADERS = {"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"}
SQL_CALLS = {"execute", "executemany", "executescript"}


def unsafe_calls(tree: ast.AST) -> Iterator[str]:
    """What we never do: unpickle, eval, load YAML with a loader that builds objects, build SQL text."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [alias.name for alias in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                if name and name.split(".")[0] in {"pickle", "cPickle", "dill", "marshal", "shelve"}:
                    yield f"imports {name}"
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if isinstance(func, ast.Name) and name in {"eval", "exec", "__import__"}:
            yield f"calls {name}()"
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "yaml":
            loader = next((kw.value for kw in node.keywords if kw.arg == "Loader"), None)
            loader_name = loader.attr if isinstance(loader, ast.Attribute) else getattr(loader, "id", None)
            if name in UNSAFE_YAML or (name in {"load", "load_all"} and loader_name not in SAFE_LOADERS):
                yield f"calls yaml.{name} without a safe loader"
        if name in SQL_CALLS and node.args:
            sql = node.args[0]
            concatenated = isinstance(sql, ast.BinOp) and isinstance(sql.op, ast.Mod | ast.Add)
            joined = isinstance(sql, ast.JoinedStr) or concatenated
            if joined or (isinstance(sql, ast.Call) and getattr(sql.func, "attr", "") == "format"):
                yield f"builds the SQL of .{name}() from strings"


def test_the_package_never_unpickles_evals_loads_unsafe_yaml_or_formats_sql() -> None:
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{problem}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for problem in unsafe_calls(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert found == []


@pytest.mark.parametrize(
    "source",
    [
        "import pickle",
        "from marshal import loads",
        "eval(text)",
        "yaml.load(text)",
        "yaml.load(text, Loader=yaml.Loader)",
        "yaml.unsafe_load(text)",
        'conn.execute(f"SELECT * FROM t WHERE key = {key}")',
        'conn.execute("SELECT * FROM t WHERE key = %s" % key)',
        'conn.execute("SELECT * FROM t WHERE key = {}".format(key))',
    ],
)
def test_the_source_check_catches_each_unsafe_form(source: str) -> None:
    assert list(unsafe_calls(ast.parse(source)))


@pytest.mark.parametrize(
    "source",
    ["yaml.safe_load(text)", "yaml.load(text, Loader=yaml.SafeLoader)", 'conn.execute("SELECT ? ", (key,))'],
)
def test_the_source_check_passes_safe_forms(source: str) -> None:
    assert list(unsafe_calls(ast.parse(source))) == []


def test_the_cli_makes_no_hub_telemetry_request(tmp_path: Path) -> None:
    """huggingface_hub would fetch /api/agent-harnesses from the hub while building its user agent."""
    card = (CARDS / "qwen3-embedding-4b.md").read_text(encoding="utf-8")
    with hub_server({"Qwen/Qwen3-Embedding-4B": FakeRepo(readme=card)}) as hub:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "OPENAI_"))}
        env |= {"HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / "hf"), "DECOMPOSE_CACHE": str(tmp_path / "c")}
        result = subprocess.run(
            [str(Path(sys.executable).parent / "decompose"), "card", "Qwen/Qwen3-Embedding-4B", "--replay", str(EXCHANGES)],
            capture_output=True, text=True, env=env, timeout=120,
        )
        paths = [request.path for request in hub.requests]
    assert result.returncode == 0, result.stderr
    assert paths and not [path for path in paths if "agent-harnesses" in path]


def test_an_oversized_hub_card_is_refused_before_it_is_downloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    big = "# Big\n\n" + "word " * 600_000  # ~3 MB
    with hub_server({"big/card": FakeRepo(readme=big)}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        with pytest.raises(InputError, match="larger than the 2 MB a card may have"):
            load_card("big/card")
        downloads = [r for r in hub.requests if r.method == "GET" and r.path.endswith("/README.md")]
    assert downloads == []
