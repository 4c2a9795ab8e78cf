"""The lean OpenAI-compatible LLM against real local servers: the benchmark's fake upstream
(which counts connections), a raw HTTP server for awkward streams, and a second Fintalk."""

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from asgiref.sync import async_to_sync
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.tools import FunctionTool

from agents.events import ToolStarted
from agents.providers import GenerationParams
from agents.providers.openai_llm import OpenAICompatibleLLM
from bench.fake_upstream import Behaviour, serve_asgi_in_thread, serve_in_thread
from fintalk import errors
from tests.agents.providers.conftest import answer, openai_provider

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def fake_upstream() -> Iterator[str]:
    with serve_in_thread(Behaviour(ttft_ms=0, gap_ms=0, tokens=8)) as url:
        yield url


def upstream_stats(url: str) -> dict:
    import httpx

    return httpx.get(url.removesuffix("/v1") + "/healthz").json()


def test_connections_are_reused_across_requests(fake_upstream):
    provider = openai_provider(fake_upstream)

    async def many() -> list[str]:
        texts = []
        for _ in range(30):
            llm = provider.llm(GenerationParams())
            reply = await llm.achat([ChatMessage(role=MessageRole.USER, content="hi")])
            texts.append(reply.message.content)
        return texts

    before = upstream_stats(fake_upstream)
    texts = async_to_sync(many)()
    after = upstream_stats(fake_upstream)

    assert all(texts) and len(set(texts)) == 1
    assert after["requests_served"] - before["requests_served"] == 30
    # One event loop, one pool: every stream was read to its end and its connection reused.
    assert (after["connections_seen"] - before["connections_seen"]) / 30 <= 0.1


def test_through_the_agent_usage_comes_from_the_upstream(fake_upstream):
    outcome = answer(openai_provider(fake_upstream), "What loans do you offer?")

    assert outcome.error is None and outcome.text
    assert outcome.answered.usage.estimated is False
    assert outcome.answered.usage.completion_tokens == 8


class RawUpstream:
    """An HTTP/1.1 server on a loopback port that answers every request with ``body``
    (bytes, sent as given after a streaming header), then closes the connection."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.requests: list[dict] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/v1"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            with connection:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += connection.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(next(
                    line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
                ))
                while len(body) < length:
                    body += connection.recv(65536)
                self.requests.append(json.loads(body))
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n" + self.body
                )

    def close(self) -> None:
        self._listener.close()


def sse(*chunks: dict, done: bool = True) -> bytes:
    body = b"".join(b"data: " + json.dumps(chunk).encode() + b"\n\n" for chunk in chunks)
    return body + (b"data: [DONE]\n\n" if done else b"")


def delta(content=None, *, finish=None, calls=None) -> dict:
    piece: dict = {}
    if content is not None:
        piece["content"] = content
    if calls is not None:
        piece["tool_calls"] = calls
    return {"id": "x", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": piece, "finish_reason": finish}]}


@pytest.fixture
def raw_upstream():
    servers: list[RawUpstream] = []

    def start(body: bytes) -> RawUpstream:
        servers.append(RawUpstream(body))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_a_tool_call_split_across_chunks_is_assembled_and_run(raw_upstream):
    # The first step calls a tool, its name and arguments arriving in pieces; every later
    # step (the same canned body) would call it again, so the agent's iteration limit ends it.
    upstream = raw_upstream(
        sse(
            delta(calls=[{"index": 0, "id": "call_1", "type": "function", "function": {"name": "list_loan", "arguments": ""}}]),
            delta(calls=[{"index": 0, "function": {"name": "_products", "arguments": "{\"prod"}}]),
            delta(calls=[{"index": 0, "function": {"arguments": "uct\": \"personal\"}"}}]),
            delta(finish="tool_calls"),
        )
    )

    outcome = answer(openai_provider(upstream.url), "What loans do you offer?")

    started = [event for event in outcome.events if isinstance(event, ToolStarted)]
    assert started and started[0].name == "list_loan_products"
    assert started[0].arguments == {"product": "personal"}
    follow_up = upstream.requests[1]["messages"]
    assert follow_up[-2]["tool_calls"][0]["function"]["name"] == "list_loan_products"
    assert follow_up[-1]["role"] == "tool" and follow_up[-1]["tool_call_id"] == "call_1"


def test_usage_chunks_are_read_even_when_every_chunk_repeats_a_running_total(raw_upstream):
    running = [{"prompt_tokens": 70, "completion_tokens": n, "total_tokens": 70 + n} for n in (1, 2, 3)]
    upstream = raw_upstream(
        sse(
            {**delta("Hello"), "usage": running[0]},
            {**delta(" there"), "usage": running[1]},
            {**delta(finish="stop"), "usage": running[2]},
            {"id": "x", "object": "chat.completion.chunk", "choices": [], "usage": running[2]},
        )
    )

    outcome = answer(openai_provider(upstream.url, tool_calling=False), "hello")

    assert outcome.error is None and outcome.text == "Hello there"
    usage = outcome.answered.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.estimated) == (70, 3, False)


def test_a_stream_cut_off_before_finish_reason_is_an_error_not_an_answer(raw_upstream):
    upstream = raw_upstream(sse(delta("Your balance"), delta(" is"), done=False))

    outcome = answer(openai_provider(upstream.url, tool_calling=False), "balance")

    assert outcome.text == "Your balance is"
    assert isinstance(outcome.error, errors.UpstreamError) and outcome.error.status == 502


def test_tool_arguments_cut_off_are_never_run(raw_upstream):
    upstream = raw_upstream(
        sse(
            delta(calls=[{"index": 0, "id": "c", "type": "function", "function": {"name": "list_loan_products", "arguments": "{\"pro"}}]),
            delta(finish="tool_calls"),
        )
    )

    outcome = answer(openai_provider(upstream.url), "What loans do you offer?")

    assert not [event for event in outcome.events if isinstance(event, ToolStarted)]
    assert isinstance(outcome.error, errors.UpstreamError) and "not run" in outcome.error.message


def test_the_speculative_first_call_is_taken_when_the_agent_asks_for_exactly_it(openai_upstream, monkeypatch):
    waiting_at_first_call = []
    original = OpenAICompatibleLLM._open

    async def spied(self, messages, kwargs):
        waiting_at_first_call.append(self._speculation is not None)
        return await original(self, messages, kwargs)

    monkeypatch.setattr(OpenAICompatibleLLM, "_open", spied)

    outcome = answer(openai_provider(openai_upstream.url), "What loans do you offer?")

    assert outcome.error is None and outcome.text
    # The request was sent before the agent's first model call, and that call read it:
    # the upstream saw one request.
    assert waiting_at_first_call == [True]
    assert len(openai_upstream.app.requests) == 1


def test_a_speculation_that_does_not_match_is_cancelled_before_the_real_request(fake_upstream):
    llm = openai_provider(fake_upstream).llm(GenerationParams())
    tool = FunctionTool.from_defaults(fn=lambda: "ok", name="ping", description="Ping.")
    asked = [ChatMessage(role=MessageRole.USER, content="hello")]

    async def run() -> tuple[str, bool]:
        llm.speculate_with_tools([tool], chat_history=[ChatMessage(role=MessageRole.USER, content="other")])
        speculation = llm._speculation[1]
        reply = await llm.achat(asked)
        await asyncio.sleep(0)
        return reply.message.content, speculation.cancelled() or speculation.done()

    text, settled = async_to_sync(run)()

    assert text and settled
    assert llm._speculation is None


def test_a_second_fintalk_is_an_openai_compatible_upstream(live_server_url, trusted_key):
    provider = openai_provider(f"{live_server_url}/v1", api_key=trusted_key, model="fintalk-offline", tool_calling=False)

    outcome = answer(provider, "What loan products do you offer?")

    assert outcome.error is None
    assert "loan" in outcome.text.lower()
    assert outcome.answered.usage.estimated is False


def test_the_lean_llm_is_what_the_provider_builds(openai_upstream):

    assert isinstance(openai_provider(openai_upstream.url).llm(GenerationParams()), OpenAICompatibleLLM)


class HoldingUpstream:
    """An upstream that takes a chat request and answers nothing, noting when its caller
    went away."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.disconnected = threading.Event()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        self.requested.set()
        while (await receive())["type"] != "http.disconnect":
            pass
        self.disconnected.set()


@pytest.fixture
def holding_upstream():
    app = HoldingUpstream()
    for url in serve_asgi_in_thread(app):
        yield app, url


def test_hanging_up_while_the_speculative_call_waits_closes_it_upstream(holding_upstream, trusted_key):
    from tests.conftest import ServerProcess

    upstream, endpoint = holding_upstream
    fintalk = ServerProcess({"LLM_PROVIDER": "openai", "LLM_API_ENDPOINT": endpoint, "LLM_MODEL": "held"})
    try:
        fintalk.wait_ready()
        host, port = fintalk.url.removeprefix("http://").split(":")
        body = json.dumps({"model": "held", "stream": True, "messages": [{"role": "user", "content": "hello"}]})
        caller = socket.create_connection((host, int(port)))
        caller.sendall(
            (
                f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {trusted_key}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}"
            ).encode()
        )
        assert upstream.requested.wait(timeout=30), "the model request never left"
        caller.close()
        closed = upstream.disconnected.wait(timeout=10)
    finally:
        fintalk.stop()

    assert closed, "Fintalk kept the model request open after the caller hung up"


def test_an_upstream_refusing_stream_options_is_asked_again_without_and_never_again(openai_upstream):
    from tests.agents.providers.fake_openai import Reply, Status

    openai_upstream.app.script.extend(
        [Status(400, "Unrecognized request argument supplied: stream_options"), Reply("Hello."), Reply("Again.")]
    )
    provider = openai_provider(openai_upstream.url, tool_calling=False)

    first = answer(provider, "hello")
    second = answer(provider, "hello again")

    assert (first.error, first.text, second.text) == (None, "Hello.", "Again.")
    asked = [request.get("stream_options") for _, request in openai_upstream.app.requests]
    assert asked == [{"include_usage": True}, None, None]
    assert first.answered.usage.estimated is True
