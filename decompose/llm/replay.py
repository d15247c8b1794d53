"""Record/replay HTTP transport under the openai client, so every run can also work offline.

`RecordReplayTransport` is an httpx2 transport (sync and async): build the client with
`openai.OpenAI(http_client=openai.DefaultHttpx2Client(transport=t))` or
`openai.AsyncOpenAI(http_client=openai.DefaultAsyncHttpx2Client(transport=t))`. Nothing is patched.

A fixture is one file `<request_hash>.json` per exchange. The hash covers the method, the URL path
(no host, no query: recording against `http://127.0.0.1:8000/v1` replays under `https://api.openai.com/v1`)
and the JSON body with sorted keys; never headers, which carry secrets and per-machine noise (user
agent, `X-Stainless-*` retry counts). The file keeps the request and the response status, body and
only the `content-type` and `retry-after` headers, so no key, organisation, cookie or request id is
ever written.

Record mode forwards to the inner transport and writes a fixture for every response that answers the
request. Not written (returned to the caller untouched, so its retry logic still sees them):
5xx, 429, 408 and 409 (transient faults the SDK retries), 401 and 403 (they depend on the credentials,
which the hash deliberately ignores: replaying them would answer for a key that is not there), and
transport errors (raised as they are). A recorded response is returned exactly as replay will serve
it, so a record run exercises the bytes later replays see.

Replay mode serves the fixture whose hash matches and nothing else: a miss raises `ReplayMiss` naming
the missing hash and the nearest recorded request (highest difflib ratio over the canonical texts'
tokens) with the first JSON path where they differ; a broken fixture raises `LLMError`, also when it
is met while looking for the nearest one.

Caveat for callers: the openai SDK wraps any non-openai exception raised in a transport (so
`ReplayMiss`, `LLMError`) into `openai.APIConnectionError`, the original as its `__cause__`, after
retrying it `max_retries` times with backoff (about 1.4 s wasted at the default 2): build replay
clients with `max_retries=0`. instructor wraps that once more (`InstructorRetryException` whose
`__cause__` is the `APIConnectionError`), so the layer calling the SDK should walk the `__cause__`
chain and re-raise the first `LLMError` it finds.

The fixture directory is indexed once per transport, lazily and under a lock (batch runs share one
transport across threads and tasks); a transport does not see fixtures added after its first request.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx2

from decompose.errors import LLMError, ReplayMiss

__all__ = ["RecordReplayTransport", "request_hash"]

_KEPT_HEADERS = ("content-type", "retry-after")
_NOT_ANSWERS = frozenset({401, 403, 408, 409, 429})
_FIXTURE_NAME = re.compile(r"[0-9a-f]{16}\.json")
# The nearest fixture is found by difflib ratio over the canonical texts' tokens (words and single
# punctuation marks: far fewer and more distinctive than characters), capped to a head and a tail since
# requests for one card share a long prompt prefix and differ further on. Keeps 1000 fixtures fast.
_NEAREST_CAP = 1000
_TOKEN = re.compile(r"\w+|\S")
_SHAPE = '{"request": {"method", "path", "body"}, "response": {"status", "headers", "body"}}'


def request_hash(method: str, path: str, body: bytes) -> str:
    """First 16 hex chars of the sha256 of the canonical request (method, path, canonical body)."""
    canonical = _canonical(method, path, body)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _canonical(method: str, path: str, body: bytes) -> str:
    """`METHOD /path` then the body as compact sorted JSON, or `sha256:<hex>` of bytes that are not JSON."""
    try:
        text = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except ValueError:
        text = "sha256:" + hashlib.sha256(body).hexdigest()
    return f"{method.upper()} {path}\n{text}"


def _json_value(raw: bytes) -> Any:
    """The parsed JSON document, or the raw text when it is not JSON (or only a bare JSON string).

    A bare JSON string stays as its raw text so `_raw_bytes` can tell the two apart: the stored
    value then turns back into bytes that mean the same as the original.
    """
    text = raw.decode("utf-8", "surrogateescape")
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return text if isinstance(value, str) else value


def _raw_bytes(value: Any) -> bytes:
    """Inverse of `_json_value`: text as its original bytes, anything else serialised as JSON."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    return json.dumps(value).encode()


def _first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """JSON path (`messages[1].content`) of the first value that differs, in sorted-key order."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(a.keys() | b.keys()):
            step = (f"{path}.{key}" if path else key) if key.isidentifier() else f"{path}[{json.dumps(key)}]"
            if key not in a or key not in b:
                return step
            if found := _first_difference(a[key], b[key], step):
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        for index, (x, y) in enumerate(zip(a, b)):
            if found := _first_difference(x, y, f"{path}[{index}]"):
                return found
        return None if len(a) == len(b) else f"{path}[{min(len(a), len(b))}]"
    if type(a) is type(b) and a == b:
        return None
    return path or "body"


def _tokens(canonical: str) -> list[str]:
    """Head and tail tokens of a canonical text; huge bodies are cut first so tokenising stays bounded."""
    chars = 16 * _NEAREST_CAP
    if len(canonical) > chars:
        canonical = canonical[: chars // 2] + "\n" + canonical[-chars // 2 :]
    tokens = _TOKEN.findall(canonical)
    half = _NEAREST_CAP // 2
    return tokens if len(tokens) <= _NEAREST_CAP else tokens[:half] + tokens[-half:]


def _invalid(path: Path, reason: str) -> LLMError:
    return LLMError(f"fixture {path} is not a valid recorded exchange: {reason}; re-record it", step="replay")


def _load(path: Path) -> dict[str, Any]:
    """Read one fixture and check its shape and that its request still hashes to its file name."""
    try:
        exchange = json.loads(path.read_text("utf-8", "surrogatepass"))
    except (OSError, ValueError) as err:
        raise _invalid(path, f"cannot read it as JSON ({err})") from err
    try:
        request, response = exchange["request"], exchange["response"]
        method, url_path, body = request["method"], request["path"], request["body"]
        status, headers, _ = response["status"], response["headers"], response["body"]
    except KeyError as err:
        raise _invalid(path, f"missing key {err}") from err
    except TypeError as err:
        raise _invalid(path, f"expected {_SHAPE}") from err
    if not (isinstance(method, str) and isinstance(url_path, str) and type(status) is int):
        raise _invalid(path, "request method/path must be strings and response status an integer")
    if not (isinstance(headers, dict) and all(isinstance(v, str) for v in headers.values())):
        raise _invalid(path, "response headers must map names to strings")
    if (actual := request_hash(method, url_path, _raw_bytes(body))) != path.stem:
        raise _invalid(path, f"its request hashes to {actual}, not to its file name")
    return exchange


def _is_answer(status: int) -> bool:
    """Whether a response answers the request (recorded) rather than reports a fault or credentials."""
    return status < 500 and status not in _NOT_ANSWERS


def _served(stored: dict[str, Any], request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(
        stored["status"], headers=stored["headers"], content=_raw_bytes(stored["body"]), request=request
    )


@dataclass(frozen=True)
class _Recorded:
    """A recorded request, as compared against a missed one."""

    key: str
    method: str
    path: str
    body: Any
    tokens: list[str]


class RecordReplayTransport(httpx2.BaseTransport, httpx2.AsyncBaseTransport):
    """Serves recorded exchanges (replay) or forwards and records them (record); see the module doc.

    Record mode forwards sync requests to `inner` (default a fresh `httpx2.HTTPTransport`) and async
    ones to `async_inner` (default `inner` when it is also async, else a fresh `AsyncHTTPTransport`).
    Replay mode ignores both, so a miss can never reach the network.
    """

    def __init__(
        self,
        mode: Literal["replay", "record"],
        directory: Path,
        inner: httpx2.BaseTransport | None = None,
        async_inner: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        if mode not in ("replay", "record"):
            raise ValueError(f"mode must be 'replay' or 'record', not {mode!r}")
        self.mode = mode
        self.directory = Path(directory)
        self._inner: httpx2.BaseTransport | None = None
        self._async_inner: httpx2.AsyncBaseTransport | None = None
        if mode == "record":
            self._inner = inner if inner is not None else httpx2.HTTPTransport()
            if async_inner is None:
                async_inner = inner if isinstance(inner, httpx2.AsyncBaseTransport) else httpx2.AsyncHTTPTransport()
            self._async_inner = async_inner
        self._lock = threading.Lock()
        self._index: dict[str, Path] | None = None
        self._recorded: list[_Recorded] | None = None

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        body = request.read()
        if self._inner is None:
            return self._replay(request, body)
        response = self._inner.handle_request(request)
        if not _is_answer(response.status_code):
            return response
        try:
            content = response.read()
        finally:
            response.close()
        return self._record(request, body, response, content)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = await request.aread()
        if self._async_inner is None:
            return self._replay(request, body)
        response = await self._async_inner.handle_async_request(request)
        if not _is_answer(response.status_code):
            return response
        try:
            content = await response.aread()
        finally:
            await response.aclose()
        return self._record(request, body, response, content)

    def close(self) -> None:
        if self._inner is not None:
            self._inner.close()

    async def aclose(self) -> None:
        if self._async_inner is not None:
            await self._async_inner.aclose()

    def _replay(self, request: httpx2.Request, body: bytes) -> httpx2.Response:
        key = request_hash(request.method, request.url.path, body)
        path = self._fixture_index().get(key)
        if path is None:
            raise ReplayMiss(key, self._nearest(request.method, request.url.path, body), str(self.directory))
        return _served(_load(path)["response"], request)

    def _record(
        self, request: httpx2.Request, body: bytes, response: httpx2.Response, content: bytes
    ) -> httpx2.Response:
        stored = {
            "status": response.status_code,
            "headers": {name: response.headers[name] for name in _KEPT_HEADERS if name in response.headers},
            "body": _json_value(_redacted(content, _credentials(request))),
        }
        exchange = {
            "request": {"method": request.method.upper(), "path": request.url.path, "body": _json_value(body)},
            "response": stored,
        }
        self._write(request_hash(request.method, request.url.path, body), exchange)
        return _served(stored, request)

    def _write(self, key: str, exchange: dict[str, Any]) -> None:
        """Write atomically (temp file + os.replace): a crash or a parallel reader never sees half a fixture."""
        text = json.dumps(exchange, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        target = self.directory / f"{key}.json"
        tmp: str | None = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{key}.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8", errors="surrogatepass") as out:
                out.write(text)
            os.replace(tmp, target)
        except OSError as err:
            raise LLMError(f"cannot write fixture {target}: {err}", step="record") from err
        finally:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)

    def _fixture_index(self) -> dict[str, Path]:
        with self._lock:
            if self._index is None:
                found = sorted(self.directory.glob("*.json")) if self.directory.is_dir() else []
                self._index = {p.stem: p for p in found if _FIXTURE_NAME.fullmatch(p.name)}
            return self._index

    def _recorded_requests(self) -> list[_Recorded]:
        index = self._fixture_index()
        with self._lock:
            if self._recorded is None:
                recorded = []
                for key, path in sorted(index.items()):
                    request = _load(path)["request"]
                    raw = _raw_bytes(request["body"])
                    tokens = _tokens(_canonical(request["method"], request["path"], raw))
                    recorded.append(_Recorded(key, request["method"], request["path"], request["body"], tokens))
                self._recorded = recorded
            return self._recorded

    def _nearest(self, method: str, path: str, body: bytes) -> str | None:
        """`<hash> (differs at <json path>)` of the most similar recorded request, or None if none."""
        matcher: difflib.SequenceMatcher[str] = difflib.SequenceMatcher(autojunk=False)
        matcher.set_seq2(_tokens(_canonical(method, path, body)))
        best: _Recorded | None = None
        best_ratio = -1.0
        for recorded in self._recorded_requests():
            matcher.set_seq1(recorded.tokens)
            if matcher.real_quick_ratio() <= best_ratio or matcher.quick_ratio() <= best_ratio:
                continue
            if (ratio := matcher.ratio()) > best_ratio:
                best, best_ratio = recorded, ratio
        if best is None:
            return None
        if best.method != method.upper():
            where = "method"
        elif best.path != path:
            where = "path"
        else:
            where = _first_difference(best.body, _json_value(body)) or "body"
        return f"{best.key} (differs at {where})"


_CREDENTIAL_HEADERS = ("authorization", "api-key", "openai-organization", "openai-project")


def _credentials(request: httpx2.Request) -> list[str]:
    """The secrets this request carried; an endpoint may echo one back in an error body."""
    found = []
    for name in _CREDENTIAL_HEADERS:
        value = request.headers.get(name, "")
        secret = value.split(" ", 1)[1] if value.lower().startswith("bearer ") else value
        if len(secret) >= 8:
            found.append(secret)
    return found


def _redacted(content: bytes, secrets: list[str]) -> bytes:
    """`content` with every credential replaced, so no recorded fixture can carry one."""
    for secret in secrets:
        content = content.replace(secret.encode("utf-8"), b"[REDACTED]")
    return content
