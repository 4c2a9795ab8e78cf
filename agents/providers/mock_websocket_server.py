"""A mock WebSocket LLM that speaks Fintalk's WebSocket protocol, for local testing.

Its rules are a mock's: when the conversation ends with tool results it reads them back;
otherwise it calls the offered tool whose name shares the most words with the question
("What loan products do you offer?" calls ``list_loan_products``), with no arguments;
otherwise it echoes the question. Answers stream word by word as ``{"delta": ...}``
messages when the request asks for streaming, and a tool call comes back as
``tool_calls`` in the final message. The protocol is described in
``agents.providers.websocket_llm``. It needs nothing but ``websockets``.

Run it, then point Fintalk at it::

    python -m agents.providers.mock_websocket_server --port 8765 [--api-key KEY] [--delay-ms 20]
    LLM_PROVIDER=websocket LLM_WEBSOCKET_URL=ws://127.0.0.1:8765 make run
"""

import argparse
import asyncio
import json
import re
from http import HTTPStatus

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from fintalk.ids import new_id

MODEL = "mock-websocket-llm"
_WORDS = re.compile(r"[a-z]+")
_STREAMED_WORDS = re.compile(r"\s*\S+")  # each word with the space before it


def _stems(text: str) -> set[str]:
    return {word.removesuffix("s") for word in _WORDS.findall(text.lower()) if len(word) > 2}


def _matching_tool(question: str, tools: list[dict]) -> str | None:
    """The offered tool whose name shares the most words with the question."""
    asked = _stems(question)
    scored = [
        (len(asked & _stems(tool["function"]["name"].replace("_", " "))), tool["function"]["name"])
        for tool in tools
    ]
    best = max(scored, default=(0, None))
    return best[1] if best[0] else None


def answer(request: dict) -> dict:
    """The final reply message to one request."""
    messages = (request.get("metadata") or {}).get("messages") or []
    tools = (request.get("metadata") or {}).get("tools") or []
    results = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        results.insert(0, str(message.get("content") or ""))
    question = str(request.get("message") or "")
    tool = None if results else _matching_tool(question, tools)
    text = "" if tool else " ".join(results) or f"You said: {question}"
    calls = [{"id": new_id("call_", hex_digits=12), "name": tool, "arguments": {}}] if tool else []
    return {
        "response": text,
        "tokens_used": len(text.split()),
        "model": str(request.get("model") or MODEL),
        "finish_reason": "tool_calls" if calls else "completed",
        "tool_calls": calls,
        "metadata": {},
    }


async def _serve_connection(connection: ServerConnection, *, delay_ms: float) -> None:
    try:
        async for raw in connection:
            try:
                request = json.loads(raw)
                final = answer(request)
            except (ValueError, KeyError, TypeError) as error:
                await connection.send(json.dumps({"error": str(error), "error_code": "invalid_request"}))
                continue
            if (request.get("settings") or {}).get("stream"):
                for index, word in enumerate(_STREAMED_WORDS.findall(final["response"])):
                    if index and delay_ms:
                        await asyncio.sleep(delay_ms / 1000)
                    await connection.send(json.dumps({"delta": word}))
            await connection.send(json.dumps(final))
    except ConnectionClosed:
        pass


def _bearer_check(api_key: str):
    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        if api_key and request.headers.get("Authorization") != f"Bearer {api_key}":
            return connection.respond(HTTPStatus.UNAUTHORIZED, "A valid bearer key is required.\n")
        return None

    return process_request


async def mock_websocket_server(
    *, host: str = "127.0.0.1", port: int = 0, api_key: str = "", delay_ms: float = 0.0
) -> Server:
    """Start the mock server (port 0: any free port); close it with ``server.close()``."""

    async def handler(connection: ServerConnection) -> None:
        await _serve_connection(connection, delay_ms=delay_ms)

    return await serve(handler, host, port, process_request=_bearer_check(api_key))


async def _run(host: str, port: int, api_key: str, delay_ms: float) -> None:
    server = await mock_websocket_server(host=host, port=port, api_key=api_key, delay_ms=delay_ms)
    bound = server.sockets[0].getsockname()
    print(f"Mock WebSocket LLM on ws://{bound[0]}:{bound[1]} (Ctrl-C stops it)", flush=True)
    await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", default="", help="require this bearer key (default: none)")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="pause between streamed words")
    arguments = parser.parse_args()
    try:
        asyncio.run(_run(arguments.host, arguments.port, arguments.api_key, arguments.delay_ms))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
