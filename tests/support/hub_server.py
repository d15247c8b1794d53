"""Local HTTP servers for offline tests: a fake Hugging Face hub and a plain static web server.

The fake hub answers the routes huggingface_hub 2.4.0 calls for `model_info`, `dataset_info` and
`hf_hub_download(..., "README.md")`, with the headers that library relies on:
- `GET /api/models/{org}/{name}`, `GET /api/datasets/{org}/{name}`: repo info JSON (id, sha,
  lastModified, downloads, likes, gated, tags, cardData, siblings). Like the real hub, a gated repo's
  info is public.
- `HEAD`/`GET /{org}/{name}/resolve/main/README.md` and `/datasets/{org}/{name}/resolve/main/README.md`:
  the card with `X-Repo-Commit`, `ETag` (the git blob sha1) and `Content-Length`.
- errors with the `X-Error-Code` header hf_raise_for_status maps: unknown repo → 404 `RepoNotFound`;
  no README → 404 `EntryNotFound`; gated without a token → 401 `GatedRepo`, with a token that was not
  granted → 403 `GatedRepo`.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

RepoKind = Literal["model", "dataset"]


@dataclass(frozen=True)
class FakeRepo:
    """One repository on the fake hub; `info` overrides or extends the default info JSON."""

    kind: RepoKind = "model"
    readme: str | bytes | None = "# A card\n\nIt does things.\n"
    info: Mapping[str, Any] = field(default_factory=dict)
    gated: Literal[False, "auto", "manual"] = False
    granted_tokens: frozenset[str] = frozenset()
    status: int | None = None


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class RunningServer:
    url: str
    requests: list[SeenRequest] = field(default_factory=list)


@dataclass(frozen=True)
class Route:
    """A canned answer of the static web server."""

    body: bytes | str = b""
    status: int = 200
    content_type: str = "text/markdown; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)
    send_length: bool = True


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes = b""


Answer = Callable[[SeenRequest], Reply]


class _Handler(BaseHTTPRequestHandler):
    """Hands every request to the server's `answer` callable; HTTP/1.0, so each reply closes the connection."""

    server: _Server

    def do_GET(self) -> None:
        self._reply(send_body=True)

    def do_HEAD(self) -> None:
        self._reply(send_body=False)

    def _reply(self, *, send_body: bool) -> None:
        seen = SeenRequest(self.command, self.path, {key.lower(): value for key, value in self.headers.items()})
        self.server.running.requests.append(seen)
        reply = self.server.answer(seen)
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if send_body:
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    running: RunningServer
    answer: Answer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up mid-body (the size-limit tests do) is expected, not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def _serve(answer: Answer) -> Iterator[RunningServer]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.running = RunningServer(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.answer = answer
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.running
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def hub_server(repos: Mapping[str, FakeRepo]) -> Iterator[RunningServer]:
    """Run a fake hub serving `repos` (keyed by ORG/NAME); yields its URL and the requests it saw."""
    with _serve(lambda request: _hub_answer(repos, request)) as running:
        yield running


@contextmanager
def web_server(routes: Mapping[str, Route]) -> Iterator[RunningServer]:
    """Run a static server answering each path in `routes`, 404 for any other path."""
    with _serve(lambda request: _web_answer(routes, request)) as running:
        yield running


def _error(status: int, code: str | None, message: str, extra: Mapping[str, str] | None = None) -> Reply:
    body = json.dumps({"error": message}).encode()
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body)), "X-Error-Message": message}
    if code is not None:
        headers["X-Error-Code"] = code
    return Reply(status, headers | dict(extra or {}), body)


def _commit_of(repo_id: str) -> str:
    return hashlib.sha1(repo_id.encode()).hexdigest()


def _git_blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _hub_answer(repos: Mapping[str, FakeRepo], request: SeenRequest) -> Reply:
    segments = [unquote(segment) for segment in urlsplit(request.path).path.split("/") if segment]
    if segments[:1] == ["api"] and len(segments) == 4 and segments[1] in ("models", "datasets"):
        kind: RepoKind = "model" if segments[1] == "models" else "dataset"
        return _info_reply(repos, kind, f"{segments[2]}/{segments[3]}")
    kind = "model"
    if segments[:1] == ["datasets"]:
        kind, segments = "dataset", segments[1:]
    if len(segments) == 5 and segments[2:4] == ["resolve", "main"]:
        return _file_reply(repos, kind, f"{segments[0]}/{segments[1]}", segments[4], request)
    return _error(404, "RepoNotFound", "Repository not found")


def _find(repos: Mapping[str, FakeRepo], kind: RepoKind, repo_id: str) -> FakeRepo | None:
    repo = repos.get(repo_id)
    return repo if repo is not None and repo.kind == kind else None


def _info_reply(repos: Mapping[str, FakeRepo], kind: RepoKind, repo_id: str) -> Reply:
    repo = _find(repos, kind, repo_id)
    if repo is None:
        return _error(404, "RepoNotFound", "Repository not found")
    if repo.status is not None:
        return _error(repo.status, None, "Forced failure")
    info: dict[str, Any] = {
        "_id": _commit_of(repo_id)[:24],
        "id": repo_id,
        "author": repo_id.split("/")[0],
        "sha": _commit_of(repo_id),
        "lastModified": "2025-06-05T08:30:00.000Z",
        "createdAt": "2025-06-01T00:00:00.000Z",
        "private": False,
        "gated": repo.gated,
        "disabled": False,
        "downloads": 0,
        "likes": 0,
        "tags": [],
        "cardData": {},
        "siblings": [{"rfilename": "README.md"}] if repo.readme is not None else [],
        **repo.info,
    }
    body = json.dumps(info).encode()
    return Reply(200, {"Content-Type": "application/json", "Content-Length": str(len(body))}, body)


def _file_reply(
    repos: Mapping[str, FakeRepo], kind: RepoKind, repo_id: str, filename: str, request: SeenRequest
) -> Reply:
    repo = _find(repos, kind, repo_id)
    if repo is None:
        return _error(404, "RepoNotFound", "Repository not found")
    if repo.status is not None:
        return _error(repo.status, None, "Forced failure")
    commit = {"X-Repo-Commit": _commit_of(repo_id)}
    if repo.gated:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not token:
            return _error(401, "GatedRepo", f"Access to {kind} {repo_id} is restricted. Please log in.", commit)
        if token not in repo.granted_tokens:
            return _error(403, "GatedRepo", f"Access to {kind} {repo_id} is restricted; ask for access.", commit)
    if filename != "README.md" or repo.readme is None:
        return _error(404, "EntryNotFound", f"{filename} does not exist on main", commit)
    data = repo.readme.encode("utf-8") if isinstance(repo.readme, str) else repo.readme
    headers = {
        **commit,
        "ETag": f'"{_git_blob_sha(data)}"',
        "Content-Length": str(len(data)),
        "Content-Type": "text/plain; charset=utf-8",
        "Accept-Ranges": "bytes",
    }
    return Reply(200, headers, data)


def _web_answer(routes: Mapping[str, Route], request: SeenRequest) -> Reply:
    route = routes.get(urlsplit(request.path).path)
    if route is None:
        return Reply(404, {"Content-Type": "text/plain", "Content-Length": "9"}, b"not found")
    body = route.body.encode("utf-8") if isinstance(route.body, str) else route.body
    headers = {"Content-Type": route.content_type, **route.headers}
    if route.send_length:
        headers["Content-Length"] = str(len(body))
    return Reply(route.status, headers, body)
