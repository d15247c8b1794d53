"""Record/replay transport, driven through the real openai clients (sync and async)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import instructor
import openai
import pytest
from instructor.core.exceptions import InstructorRetryException
from pydantic import BaseModel

from decompose.errors import LLMError, ReplayMiss
from decompose.llm.replay import RecordReplayTransport, request_hash

SECRET_KEY = "sk-test-SECRET123"
SECRET_ORG = "org-SECRETORG456"
RECORD_URL = "http://127.0.0.1:8765/v1"
REPLAY_URL = "https://api.openai.com/v1"
CHAT_PATH = "/v1/chat/completions"


def completion(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-test",
        "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14},
    }


def messages(question: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": "You decompose model cards."}, {"role": "user", "content": question}]


class Network:
    """Stands in for the endpoint: answers each request with the next status, echoing the question."""

    def __init__(self, statuses: tuple[int, ...] = (200,)) -> None:
        self.statuses = list(statuses)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        question = json.loads(request.content)["messages"][-1]["content"]
        headers = {
            "x-request-id": "req_SECRETREQ",
            "openai-organization": SECRET_ORG,
            "set-cookie": "session=SECRETCOOKIE",
            "retry-after-ms": "1",
        }
        if status != 200:
            return httpx2.Response(status, json={"error": {"message": "busy"}}, headers=headers)
        return httpx2.Response(200, json=completion(f"answer to {question}"), headers=headers)

    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self)


def sync_client(transport: RecordReplayTransport, base_url: str, **kwargs: Any) -> openai.OpenAI:
    kwargs.setdefault("api_key", SECRET_KEY)
    kwargs.setdefault("max_retries", 0)
    http_client = openai.DefaultHttpx2Client(transport=transport)
    return openai.OpenAI(base_url=base_url, organization=SECRET_ORG, http_client=http_client, **kwargs)


def async_client(transport: RecordReplayTransport, base_url: str, **kwargs: Any) -> openai.AsyncOpenAI:
    kwargs.setdefault("api_key", SECRET_KEY)
    kwargs.setdefault("max_retries", 0)
    return openai.AsyncOpenAI(
        base_url=base_url,
        organization=SECRET_ORG,
        http_client=openai.DefaultAsyncHttpx2Client(transport=transport),
        **kwargs,
    )


def ask(client: openai.OpenAI, question: str) -> dict[str, Any]:
    return client.chat.completions.create(model="gpt-test", messages=messages(question), seed=7).model_dump()


def fixtures(directory: Path) -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))}


def record(directory: Path, *questions: str) -> dict[str, str]:
    """Record one exchange per question; returns question -> fixture hash."""
    transport = RecordReplayTransport("record", directory, inner=Network().transport())
    with sync_client(transport, RECORD_URL) as client:
        for question in questions:
            ask(client, question)
    return {f["request"]["body"]["messages"][-1]["content"]: key for key, f in fixtures(directory).items()}


def test_record_then_replay_sync(tmp_path: Path) -> None:
    network = Network()
    with sync_client(RecordReplayTransport("record", tmp_path / "new", inner=network.transport()), RECORD_URL) as c:
        recorded = ask(c, "what dims?")
    assert recorded["choices"][0]["message"]["content"] == "answer to what dims?"
    assert len(network.requests) == 1

    [(key, fixture)] = fixtures(tmp_path / "new").items()
    assert key == request_hash("POST", CHAT_PATH, network.requests[0].content)
    assert fixture["request"] == {
        "method": "POST",
        "path": CHAT_PATH,
        "body": {"model": "gpt-test", "messages": messages("what dims?"), "seed": 7},
    }
    assert fixture["response"] == {
        "status": 200,
        "headers": {"content-type": "application/json"},
        "body": completion("answer to what dims?"),
    }

    with sync_client(RecordReplayTransport("replay", tmp_path / "new"), REPLAY_URL, api_key="sk-other") as c:
        assert ask(c, "what dims?") == recorded
    assert len(network.requests) == 1


def test_record_then_replay_async(tmp_path: Path) -> None:
    network = Network()

    async def run(transport: RecordReplayTransport, base_url: str) -> dict[str, Any]:
        async with async_client(transport, base_url) as client:
            answer = await client.chat.completions.create(model="gpt-test", messages=messages("license?"))
            return answer.model_dump()

    recorded = asyncio.run(run(RecordReplayTransport("record", tmp_path, inner=network.transport()), RECORD_URL))
    assert recorded["choices"][0]["message"]["content"] == "answer to license?"
    assert list(fixtures(tmp_path)) == [request_hash("POST", CHAT_PATH, network.requests[0].content)]

    assert asyncio.run(run(RecordReplayTransport("replay", tmp_path), REPLAY_URL)) == recorded
    assert len(network.requests) == 1


def test_headers_do_not_change_the_hash(tmp_path: Path) -> None:
    # First attempt gets a 503 (not recorded), the SDK retries with X-Stainless-Retry-Count: 1.
    network = Network(statuses=(503, 200))
    transport = RecordReplayTransport("record", tmp_path, inner=network.transport())
    with sync_client(transport, RECORD_URL, max_retries=1, default_headers={"User-Agent": "recorder/1"}) as c:
        ask(c, "params?")
    retried = network.requests[-1].headers
    assert retried["x-stainless-retry-count"] == "1"
    assert len(fixtures(tmp_path)) == 1

    replay = RecordReplayTransport("replay", tmp_path)
    with sync_client(replay, REPLAY_URL, api_key="sk-another-key", default_headers={"User-Agent": "ci/9"}) as c:
        answer = ask(c, "params?")
    assert answer["choices"][0]["message"]["content"] == "answer to params?"


def test_fixture_files_hold_no_secret(tmp_path: Path) -> None:
    record(tmp_path, "q1", "q2")
    written = list(tmp_path.iterdir())
    assert len(written) == 2
    for path in written:
        text = path.read_text().lower()
        for secret in (SECRET_KEY, SECRET_ORG, "authorization", "bearer", "organization", "cookie", "req_secret"):
            assert secret.lower() not in text, (path, secret)
        assert set(json.loads(text)["response"]["headers"]) == {"content-type"}


def test_request_hash_is_canonical() -> None:
    body = b'{"model":"m","messages":[{"role":"user","content":"hi"}]}'
    expected = hashlib.sha256(
        b'POST /v1/chat/completions\n{"messages":[{"content":"hi","role":"user"}],"model":"m"}'
    ).hexdigest()[:16]
    assert request_hash("post", CHAT_PATH, body) == expected
    reordered = b'{ "messages": [ {"content": "hi", "role": "user"} ], "model": "m" }'
    assert request_hash("POST", CHAT_PATH, reordered) == expected
    assert request_hash("POST", CHAT_PATH, body.replace(b"hi", b"ho")) != expected
    assert request_hash("POST", "/v1/embeddings", body) != expected
    raw_digest = hashlib.sha256(b"not json").hexdigest()
    assert request_hash("POST", "/x", b"not json") == hashlib.sha256(
        f"POST /x\nsha256:{raw_digest}".encode()
    ).hexdigest()[:16]


def test_miss_through_openai_names_hash_and_nearest(tmp_path: Path) -> None:
    keys = record(tmp_path, "what dims?", "which license applies to the weights?")
    with sync_client(RecordReplayTransport("replay", tmp_path), REPLAY_URL) as client:
        with pytest.raises(openai.APIConnectionError) as raised:
            ask(client, "what dimz?")
    miss = raised.value.__cause__
    assert isinstance(miss, ReplayMiss)
    sent = json.dumps({"messages": messages("what dimz?"), "model": "gpt-test", "seed": 7}).encode()
    assert miss.request_hash == request_hash("POST", CHAT_PATH, sent)
    assert miss.nearest == f"{keys['what dims?']} (differs at messages[1].content)"
    assert str(miss).startswith(f"replay: no recorded exchange {miss.request_hash} in {tmp_path}; nearest")


def test_miss_through_async_openai_is_unwrappable(tmp_path: Path) -> None:
    keys = record(tmp_path, "what dims?")

    async def run() -> None:
        async with async_client(RecordReplayTransport("replay", tmp_path), REPLAY_URL) as client:
            await client.chat.completions.create(model="gpt-test", messages=messages("what dims?"), temperature=0)

    with pytest.raises(openai.APIConnectionError) as raised:
        asyncio.run(run())
    assert isinstance(raised.value.__cause__, ReplayMiss)
    assert raised.value.__cause__.nearest == f"{keys['what dims?']} (differs at seed)"


def test_miss_under_instructor_is_two_causes_deep(tmp_path: Path) -> None:
    class Dims(BaseModel):
        dims: int

    with sync_client(RecordReplayTransport("replay", tmp_path), REPLAY_URL) as client:
        structured = instructor.from_openai(client)
        with pytest.raises(InstructorRetryException) as raised:
            structured.chat.completions.create(model="m", messages=messages("dims?"), response_model=Dims)
    assert isinstance(raised.value.__cause__, openai.APIConnectionError)
    assert isinstance(raised.value.__cause__.__cause__, ReplayMiss)


def direct(transport: RecordReplayTransport, body: Any, path: str = CHAT_PATH) -> httpx2.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return transport.handle_request(httpx2.Request("POST", f"https://api.example{path}?key=SECRETQ", content=content))


def test_nearest_reports_structural_differences(tmp_path: Path) -> None:
    base = {"model": "m", "messages": [{"role": "user", "content": "a"}], "tools": [{"name": "x"}]}
    recorder = RecordReplayTransport("record", tmp_path, inner=httpx2.MockTransport(lambda r: httpx2.Response(200)))
    direct(recorder, base)
    key = request_hash("POST", CHAT_PATH, json.dumps(base).encode())
    assert "SECRETQ" not in (tmp_path / f"{key}.json").read_text()  # the query is never kept
    replay = RecordReplayTransport("replay", tmp_path)
    cases: list[tuple[dict[str, Any], str]] = [
        ({**base, "tools": []}, "tools[0]"),
        ({**base, "temperature": 0}, "temperature"),
        ({**base, "model": 1}, "model"),
        ({**base, "odd key": 1}, '["odd key"]'),
    ]
    for body, where in cases:
        with pytest.raises(ReplayMiss) as raised:
            direct(replay, body)
        assert raised.value.nearest == f"{key} (differs at {where})"
    with pytest.raises(ReplayMiss) as raised:
        direct(replay, base, path="/v1/embeddings")
    assert raised.value.nearest == f"{key} (differs at path)"


def test_missing_or_empty_directory_misses_without_nearest(tmp_path: Path) -> None:
    for directory in (tmp_path / "absent", tmp_path):
        with pytest.raises(ReplayMiss) as raised:
            direct(RecordReplayTransport("replay", directory), {"model": "m"})
        assert raised.value.nearest is None
        assert "the fixture directory has no recordings" in str(raised.value)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "cannot read it as JSON"),
        ('{"request": {"method": "POST"}, "response": {}}', "missing key 'path'"),
        ('{"request": {"method": "POST", "path": "/", "body": 1}}', "missing key 'response'"),
        ("[1, 2]", 'expected {"request": {"method", "path", "body"}, "response"'),
        (
            '{"request": {"method": "POST", "path": "/v1/chat/completions", "body": {"model": "m"}},'
            ' "response": {"status": "200", "headers": {}, "body": {}}}',
            "response status an integer",
        ),
        (
            '{"request": {"method": "POST", "path": "/v1/chat/completions", "body": {"edited": 1}},'
            ' "response": {"status": 200, "headers": {}, "body": {}}}',
            "its request hashes to",
        ),
    ],
)
def test_broken_fixture_is_a_clear_error(tmp_path: Path, content: str, reason: str) -> None:
    body = {"model": "m"}
    broken = tmp_path / f"{request_hash('POST', CHAT_PATH, json.dumps(body).encode())}.json"
    broken.write_text(content)
    with pytest.raises(LLMError) as raised:
        direct(RecordReplayTransport("replay", tmp_path), body)
    assert not isinstance(raised.value, ReplayMiss)
    message = str(raised.value)
    assert message.startswith(f"replay: fixture {broken} is not a valid recorded exchange: ")
    assert reason in message and message.endswith("; re-record it")


@pytest.mark.parametrize(
    ("status", "written"),
    [(200, True), (400, True), (404, True), (401, False), (403, False), (429, False), (500, False), (503, False)],
)
def test_record_writes_answers_not_faults(tmp_path: Path, status: int, written: bool) -> None:
    inner = httpx2.MockTransport(lambda r: httpx2.Response(status, json={"s": status}, headers={"retry-after": "3"}))
    response = direct(RecordReplayTransport("record", tmp_path / "d", inner=inner), {"model": "m"})
    assert response.status_code == status
    assert response.headers["retry-after"] == "3"
    assert (tmp_path / "d").is_dir() == written
    if written:
        [stored] = fixtures(tmp_path / "d").values()
        headers = {"content-type": "application/json", "retry-after": "3"}
        assert stored["response"] == {"status": status, "headers": headers, "body": {"s": status}}


def test_transport_errors_propagate_and_write_nothing(tmp_path: Path) -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("refused", request=request)

    with pytest.raises(httpx2.ConnectError):
        direct(RecordReplayTransport("record", tmp_path, inner=httpx2.MockTransport(refuse)), {"model": "m"})
    assert list(tmp_path.iterdir()) == []


def test_text_bodies_round_trip_streamed_completion(tmp_path: Path) -> None:
    delta = {"index": 0, "delta": {"content": "점수"}, "finish_reason": None}
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [delta]}
    sse = f"data: {json.dumps(chunk, ensure_ascii=False)}\n\ndata: [DONE]\n\n"

    def stream(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=sse.encode(), headers={"content-type": "text/event-stream"})

    def deltas(transport: RecordReplayTransport) -> list[str | None]:
        with sync_client(transport, RECORD_URL) as client:
            chunks = client.chat.completions.create(model="m", messages=messages("스트림"), stream=True)
            return [c.choices[0].delta.content for c in chunks]

    assert deltas(RecordReplayTransport("record", tmp_path, inner=httpx2.MockTransport(stream))) == ["점수"]
    [stored] = fixtures(tmp_path).values()
    assert stored["response"]["body"] == sse
    assert "스트림" in next(tmp_path.glob("*.json")).read_text(encoding="utf-8")
    assert deltas(RecordReplayTransport("replay", tmp_path)) == ["점수"]


def test_replay_is_shared_across_threads(tmp_path: Path) -> None:
    questions = [f"q{i}" for i in range(6)]
    record(tmp_path, *questions)
    with sync_client(RecordReplayTransport("replay", tmp_path), REPLAY_URL) as client:
        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = list(pool.map(lambda q: ask(client, q)["choices"][0]["message"]["content"], questions * 3))
    assert answers == [f"answer to {q}" for q in questions * 3]


def test_nearest_among_1000_long_fixtures_is_fast(tmp_path: Path) -> None:
    prompt = "You decompose model cards into capability records, quoting the card. " * 30

    def chat(i: int, suffix: str = "") -> dict[str, Any]:
        card = f"# model-{i}\n" + " ".join(f"token{(i * 7 + j) % 997}" for j in range(300)) + suffix
        return {"model": "m", "messages": [{"role": "system", "content": prompt}, {"role": "user", "content": card}]}

    inner = httpx2.MockTransport(lambda r: httpx2.Response(200, json={}))
    recorder = RecordReplayTransport("record", tmp_path, inner=inner)
    for i in range(1000):
        direct(recorder, chat(i))
    started = time.perf_counter()
    with pytest.raises(ReplayMiss) as raised:
        direct(RecordReplayTransport("replay", tmp_path), chat(500, "!"))
    assert time.perf_counter() - started < 5.0
    nearest_key = request_hash("POST", CHAT_PATH, json.dumps(chat(500)).encode())
    assert raised.value.nearest == f"{nearest_key} (differs at messages[1].content)"


def test_replay_never_uses_an_inner_transport(tmp_path: Path) -> None:
    network = Network()
    replay = RecordReplayTransport("replay", tmp_path, inner=network.transport(), async_inner=network.transport())
    with sync_client(replay, REPLAY_URL) as client, pytest.raises(openai.APIConnectionError) as raised:
        ask(client, "anything")
    assert isinstance(raised.value.__cause__, ReplayMiss)
    assert network.requests == []


@pytest.mark.parametrize("content", [b'"a bare JSON string"', b"plain text", b"\xff\xfe not utf-8", b""])
def test_non_object_bodies_replay_byte_for_byte(tmp_path: Path, content: bytes) -> None:
    inner = httpx2.MockTransport(lambda r: httpx2.Response(200, content=content, headers={"content-type": "text/x"}))
    assert direct(RecordReplayTransport("record", tmp_path, inner=inner), content).content == content
    replayed = direct(RecordReplayTransport("replay", tmp_path), content)
    assert (replayed.status_code, replayed.headers["content-type"], replayed.content) == (200, "text/x", content)


def test_a_key_echoed_back_by_the_endpoint_is_redacted_from_the_fixture(tmp_path: Path) -> None:
    planted = "sk-test-ECHOED-SECRET-123"
    echo = httpx2.MockTransport(
        lambda request: httpx2.Response(400, json={"error": {"message": f"bad key {planted} for model"}})
    )
    transport = RecordReplayTransport("record", tmp_path, inner=echo)
    client = openai.OpenAI(api_key=planted, base_url="https://api.openai.com/v1", max_retries=0,
                           http_client=openai.DefaultHttpx2Client(transport=transport))
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    written = [path.read_text() for path in tmp_path.glob("*.json")]
    assert written and all(planted not in text and "[REDACTED]" in text for text in written)
