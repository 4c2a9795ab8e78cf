"""LLM_PROVIDER=websocket against real local ``websockets`` servers: the shipped mock
server, and small servers that fail in the ways real ones do."""

import asyncio
import json
import ssl
import threading
from collections.abc import Awaitable, Callable, Iterator

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from websockets.asyncio.server import ServerConnection, serve

from agents.events import ToolStarted
from agents.providers.mock_websocket_server import mock_websocket_server
from agents.providers.websocket import WebSocketProvider
from agents.providers.websocket_llm import WebSocketLLM
from fintalk import errors
from tests.agents.providers.conftest import answer, closed_port_url

Handler = Callable[[ServerConnection], Awaitable[None]]


def with_server(handler: Handler | None, test: Callable[[list[str]], Awaitable]):
    """Run ``test(urls)`` with a server (the mock one when ``handler`` is None) on a free port."""

    async def run():
        if handler is None:
            server = await mock_websocket_server(api_key="ws-secret")
        else:
            server = await serve(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            return await test([f"ws://127.0.0.1:{port}/chat"])
        finally:
            server.close()
            await server.wait_closed()

    return asyncio.run(run())


async def stream(llm: WebSocketLLM, text: str = "hello") -> list[str]:
    """The text deltas of one model step."""
    replies = await llm.astream_chat([ChatMessage(role=MessageRole.USER, content=text)])
    return [reply.delta async for reply in replies if reply.delta]


def test_streams_word_by_word_from_the_shipped_mock_server():
    async def test(urls):
        llm = WebSocketLLM(urls=urls, api_key="ws-secret")
        return await stream(llm, "hello")

    deltas = with_server(None, test)

    assert deltas == ["You", " said:", " hello"]


def test_a_server_that_does_not_stream_is_answered_in_one_piece():
    async def whole(connection):
        request = json.loads(await connection.recv())
        assert request["settings"]["stream"] is False
        await connection.send(json.dumps({"response": "All at once.", "tokens_used": 3, "model": "m", "finish_reason": "completed"}))

    async def test(urls):
        return await stream(WebSocketLLM(urls=urls, stream_replies=False))

    assert with_server(whole, test) == ["All at once."]


def test_the_request_follows_the_protocol_and_carries_the_bearer_key():
    received = []

    async def recording(connection):
        received.append((connection.request.headers.get("Authorization"), json.loads(await connection.recv())))
        await connection.send(json.dumps({"response": "ok", "tokens_used": 1, "model": "m", "finish_reason": "completed"}))

    async def test(urls):
        return await stream(WebSocketLLM(urls=urls, api_key="ws-secret", model="custom-model", temperature=0.2))

    with_server(recording, test)

    ((authorization, request),) = received
    assert authorization == "Bearer ws-secret"
    assert request["message"] == "hello" and request["model"] == "custom-model"
    assert request["metadata"]["messages"] == [{"role": "user", "content": "hello"}]
    assert request["settings"] == {"max_tokens": 2048, "stream": True, "temperature": 0.2}


def test_retries_with_backoff_until_the_server_answers():
    connections = []

    async def flaky(connection):
        connections.append(connection)
        if len(connections) < 3:
            return  # closes before answering, as a server restarting does
        await connection.recv()
        await connection.send(json.dumps({"response": "Third time lucky.", "finish_reason": "completed"}))

    async def test(urls):
        return await stream(WebSocketLLM(urls=urls, max_retries=2, backoff_seconds=0.01))

    assert with_server(flaky, test) == ["Third time lucky."]
    assert len(connections) == 3


def test_fails_over_to_the_next_url_when_the_first_is_down():
    async def test(urls):
        llm = WebSocketLLM(urls=[closed_port_url("ws", "/chat"), *urls], api_key="ws-secret", max_retries=0)
        return await stream(llm)

    assert "".join(with_server(None, test)) == "You said: hello"


def test_a_silent_server_times_out_with_a_504():
    async def silent(connection):
        await connection.recv()
        await connection.wait_closed()

    async def test(urls):
        with pytest.raises(errors.UpstreamTimeout) as raised:
            await stream(WebSocketLLM(urls=urls, timeout=0.3, max_retries=0))
        return raised.value

    error = with_server(silent, test)
    assert error.status == 504 and "LLM_WEBSOCKET_URL" in error.message


def test_every_url_down_is_a_503_naming_the_setting():
    async def test():
        with pytest.raises(errors.UpstreamUnavailable) as raised:
            await stream(WebSocketLLM(urls=[closed_port_url("ws"), closed_port_url("ws")], max_retries=1, backoff_seconds=0))
        return raised.value

    error = asyncio.run(test())
    assert error.status == 503 and "2 round(s)" in error.message and "LLM_WEBSOCKET_URL" in error.message


def test_a_refused_key_is_not_retried():
    async def test(urls):
        with pytest.raises(errors.UpstreamError) as raised:
            await stream(WebSocketLLM(urls=urls, api_key="wrong", max_retries=3, backoff_seconds=0))
        return raised.value

    error = with_server(None, test)
    assert error.code == "upstream_authentication_failed" and "LLM_API_KEY" in error.message


def test_a_connection_lost_mid_answer_ends_it_after_the_words_sent():
    async def dying(connection):
        await connection.recv()
        await connection.send(json.dumps({"delta": "Your balance"}))
        await connection.send(json.dumps({"delta": " is"}))
        await connection.close()

    deltas: list[str] = []

    async def test(urls):
        replies = await WebSocketLLM(urls=urls, max_retries=3).astream_chat(
            [ChatMessage(role=MessageRole.USER, content="balance?")]
        )
        with pytest.raises(errors.UpstreamError) as raised:
            async for reply in replies:
                deltas.append(reply.delta)
        return raised.value

    error = with_server(dying, test)
    assert deltas == ["Your balance", " is"]
    assert error.code == "upstream_connection_lost"


def test_an_error_message_from_the_server_is_reported():
    async def failing(connection):
        await connection.recv()
        await connection.send(json.dumps({"error": "model overloaded", "error_code": "overloaded"}))

    async def test(urls):
        with pytest.raises(errors.UpstreamError, match=r"\(overloaded\): model overloaded"):
            await stream(WebSocketLLM(urls=urls))

    with_server(failing, test)


@pytest.fixture
def mock_server_url() -> Iterator[str]:
    """The shipped mock server in a thread of its own, as it runs beside Fintalk."""
    ready, stop, ports = threading.Event(), threading.Event(), []

    async def serve_until_stopped():
        server = await mock_websocket_server()
        ports.append(server.sockets[0].getsockname()[1])
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.01)
        server.close()
        await server.wait_closed()

    thread = threading.Thread(target=asyncio.run, args=(serve_until_stopped(),), daemon=True)
    thread.start()
    assert ready.wait(5), "the mock WebSocket server did not start"
    yield f"ws://127.0.0.1:{ports[0]}"
    stop.set()
    thread.join(5)


@pytest.mark.django_db(transaction=True)
def test_the_agent_calls_a_bank_tool_through_the_protocol(demo_bank, mock_server_url):
    """The mock server asks for ``list_loan_products`` in ``tool_calls``; Fintalk runs it."""
    provider = WebSocketProvider(model="mock-websocket-llm", urls=(mock_server_url,), max_retries=0)

    outcome = answer(provider, "What loan products do you offer?")

    assert outcome.error is None, outcome.error
    assert [e.name for e in outcome.events if isinstance(e, ToolStarted)] == ["list_loan_products"]
    assert "loan" in outcome.text.lower()
    assert outcome.record.answered_by == "websocket"


def test_the_probe_pings_the_first_url_that_answers():
    async def test(urls):
        provider = WebSocketProvider(model="m", urls=(closed_port_url("ws"), *urls), api_key="ws-secret")
        await provider.probe()

    with_server(None, test)


def test_the_mock_server_refuses_a_missing_key():
    async def test(urls):
        with pytest.raises(errors.UpstreamError, match="401"):
            await stream(WebSocketLLM(urls=urls, max_retries=0))

    with_server(None, test)


def test_wss_with_a_self_signed_certificate_needs_verification_off(tls_certificate):
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(tls_certificate)

    async def answering(connection):
        await connection.recv()
        await connection.send(json.dumps({"response": "Hello over TLS.", "finish_reason": "completed"}))

    async def test():
        server = await serve(answering, "127.0.0.1", 0, ssl=server_tls)
        url = f"wss://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        try:
            with pytest.raises(errors.UpstreamError) as refused:
                await stream(WebSocketLLM(urls=[url], max_retries=2, backoff_seconds=0))
            return refused.value, await stream(WebSocketLLM(urls=[url], verify_ssl=False))
        finally:
            server.close()
            await server.wait_closed()

    refused, deltas = asyncio.run(test())
    assert refused.code == "upstream_tls_error" and "LLM_VERIFY_SSL=false" in refused.message
    assert deltas == ["Hello over TLS."]
