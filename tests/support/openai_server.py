"""A scripted OpenAI-compatible chat completions server, for tests and for recording fixtures.

It answers `POST /v1/chat/completions` on 127.0.0.1 (a free port) from a script: a list of
replies consumed in order, then an optional `responder(body) -> Reply`. Every request is kept
in `.requests` (parsed JSON body, headers, size, arrival time) so tests can check exactly what
the client sent. When the script runs out and there is no responder, the server answers 400
"script exhausted" -- a status the client does not retry, so an unexpected request fails loudly.

    with OpenAIServer([error(429, {"Retry-After": "0.2"}), answer({"capabilities": []})]) as server:
        settings = LLMSettings(base_url=server.base_url, api_key="test")
        ...
        assert len(server.requests) == 2
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

CHAT_PATH = "/v1/chat/completions"
CREATED = 1_700_000_000  # a fixed timestamp keeps recorded responses identical between runs

ReplyKind = Literal["answer", "raw", "error", "drop", "hang", "refusal"]


@dataclass(frozen=True)
class Reply:
    """What the server does with one request; build it with the functions below."""

    kind: ReplyKind
    payload: Any = None  # answer: the object; raw/refusal: the text; error: the body
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    finish_reason: str = "stop"
    seconds: float = 0.0
    then: Reply | None = None


def answer(obj: Any, finish_reason: str = "stop") -> Reply:
    """`obj` as JSON the way the request asks: a tool call if it offers tools, else message text."""
    return Reply("answer", payload=obj, finish_reason=finish_reason)


def raw(text: str, finish_reason: str = "stop") -> Reply:
    """`text` verbatim as the message content (half JSON, `<think>` blocks, code fences, prose)."""
    return Reply("raw", payload=text, finish_reason=finish_reason)


def error(status: int, headers: Mapping[str, str] | None = None, body: Any = None) -> Reply:
    """An HTTP error; the body defaults to OpenAI's `{"error": {"message": ...}}` shape."""
    return Reply("error", payload=body, status=status, headers=dict(headers or {}))


def drop() -> Reply:
    """Close the connection without sending a response."""
    return Reply("drop")


def hang(seconds: float, then: Reply | None = None) -> Reply:
    """Wait `seconds` (cut short when the server closes), then serve `then` or drop the connection."""
    return Reply("hang", seconds=seconds, then=then)


def refusal(text: str) -> Reply:
    """A refusal: `message.refusal` set, no content."""
    return Reply("refusal", payload=text)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    size: int  # bytes of the request body
    received_at: float  # time.monotonic()


class OpenAIServer:
    """The scripted server; a context manager that starts on enter and stops on exit."""

    def __init__(
        self,
        script: Iterable[Reply] = (),
        *,
        responder: Callable[[dict[str, Any]], Reply] | None = None,
        latency: float = 0.0,
    ) -> None:
        self.latency = latency
        self._script: deque[Reply] = deque(script)
        self._responder = responder
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._httpd.owner = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def add(self, *replies: Reply) -> None:
        """Append replies to the script."""
        with self._lock:
            self._script.extend(replies)

    def start(self) -> OpenAIServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self._requests.append(request)
            number = len(self._requests)
            if self._script:
                return self._script.popleft()
        if self._responder is not None:
            return self._responder(request.body)
        return error(400, body={"error": {"message": f"openai_server: script exhausted at request {number}"}})

    def _serve(self, handler: _Handler, reply: Reply, request: RecordedRequest) -> None:
        self._stopping.wait(self.latency)
        if reply.kind == "hang":
            self._stopping.wait(reply.seconds)
            handler.close_connection = True
            if reply.then is not None:
                self._serve(handler, reply.then, request)
            return
        if reply.kind == "drop":
            handler.close_connection = True
            return
        if reply.kind == "error":
            _send_json(handler, reply.status, _error_body(reply), reply.headers)
            return
        _send_json(handler, 200, _completion(reply, request), reply.headers)


class _Server(ThreadingHTTPServer):
    # socketserver's listen backlog is 5: a sixth simultaneous connection's SYN is dropped and only
    # retried after a second, which would look like a slow client. Real servers queue thousands.
    request_queue_size = 1024


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like real servers: the client reuses connections
    # Headers and body go out in separate writes; with Nagle's algorithm on, the body then waits for
    # the client's delayed ACK (~40 ms per request), which would swamp a configured `latency`.
    disable_nagle_algorithm = True

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        size = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(size)
        if self.path.rstrip("/") != CHAT_PATH:
            _send_json(self, 404, {"error": {"message": f"no route {self.path}"}})
            return
        owner: OpenAIServer = self.server.owner  # type: ignore[attr-defined]
        request = RecordedRequest(
            path=self.path,
            headers={key.lower(): value for key, value in self.headers.items()},
            body=json.loads(data or b"{}"),
            size=size,
            received_at=time.monotonic(),
        )
        owner._serve(self, owner._next_reply(request), request)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silence per-request logging: test output should show failures only."""


def _send_json(
    handler: BaseHTTPRequestHandler, status: int, payload: Any, headers: Mapping[str, str] | None = None
) -> None:
    data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
    try:
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        handler.close_connection = True  # the client gave up (a timeout test): nothing to do


def _error_body(reply: Reply) -> Any:
    if reply.payload is not None:
        return reply.payload
    phrase = HTTPStatus(reply.status).phrase
    return {"error": {"message": phrase, "type": "server_error" if reply.status >= 500 else "invalid_request_error"}}


def _completion(reply: Reply, request: RecordedRequest) -> dict[str, Any]:
    body = request.body
    message: dict[str, Any] = {"role": "assistant", "content": None}
    if reply.kind == "refusal":
        message["refusal"] = text = reply.payload
    elif reply.kind == "raw":
        message["content"] = text = reply.payload
    elif body.get("tools"):
        text = json.dumps(reply.payload)
        message["tool_calls"] = [
            {"id": "call_1", "type": "function", "function": {"name": _tool_name(body), "arguments": text}}
        ]
    else:
        message["content"] = text = json.dumps(reply.payload)
    completion_tokens = max(1, len(text) // 4)
    prompt_tokens = request.size // 4
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": CREATED,
        "model": body.get("model", "scripted"),
        "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason, "logprobs": None}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _tool_name(body: dict[str, Any]) -> str:
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and "function" in choice:
        return str(choice["function"]["name"])
    return str(body["tools"][0]["function"]["name"])
