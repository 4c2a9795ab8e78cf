"""A scripted OpenAI-compatible upstream: a real HTTP(S) server on a loopback port.

Each chat completion request takes the next scripted behaviour (a streamed reply, a tool
call, an error status, a silence, a crash half-way); the requests are recorded so tests
can assert what Fintalk sent. Served by uvicorn in a thread, optionally with TLS.
"""

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

MODEL = "scripted-upstream"


@dataclass
class Reply:
    """A text answer, streamed word by word (or whole), with usage."""

    text: str = "Our personal loans start at five percent."
    prompt_tokens: int = 321
    completion_tokens: int = 9


@dataclass
class ToolCall:
    name: str
    arguments: dict = field(default_factory=dict)


@dataclass
class Status:
    """An HTTP error in OpenAI's envelope."""

    status: int
    message: str = "scripted failure"
    code: str | None = None


@dataclass
class Silence:
    """Accept the request and never answer."""


@dataclass
class CrashAfter:
    """Stream these words, then drop the connection."""

    text: str = "Your balance is"


def _chunk(request: dict, delta: dict, finish: str | None = None, **extra) -> bytes:
    chunk = {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": request.get("model", MODEL),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


class FakeOpenAI:
    """The ASGI app; ``script`` holds the behaviours of the next chat requests."""

    def __init__(self) -> None:
        self.script: deque = deque()
        self.requests: list[tuple[dict, dict]] = []
        self.models_status = 200

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["path"].endswith("/models"):
            await self._models(send)
            return
        headers = {key.decode().lower(): value.decode() for key, value in scope["headers"]}
        request = json.loads(body)
        self.requests.append((headers, request))
        behaviour = self.script.popleft() if self.script else Reply()
        await self._respond(behaviour, request, receive, send)

    async def _models(self, send) -> None:
        if self.models_status != 200:
            await self._json(send, self.models_status, {"error": {"message": "nope", "type": "x", "code": None}})
            return
        await self._json(send, 200, {"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "x"}]})

    async def _json(self, send, status: int, body: dict) -> None:
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]}
        )
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})

    async def _respond(self, behaviour, request: dict, receive, send) -> None:
        if isinstance(behaviour, Status):
            error = {"message": behaviour.message, "type": "error", "param": None, "code": behaviour.code}
            await self._json(send, behaviour.status, {"error": error})
            return
        if isinstance(behaviour, Silence):
            while (await receive())["type"] != "http.disconnect":
                pass
            return
        if not request.get("stream"):
            await self._json(send, 200, self._completion(behaviour, request))
            return
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]}
        )

        async def event(data: bytes) -> None:
            await send({"type": "http.response.body", "body": data, "more_body": True})

        await event(_chunk(request, {"role": "assistant", "content": ""}))
        if isinstance(behaviour, ToolCall):
            call = {
                "index": 0,
                "id": "call_scripted",
                "type": "function",
                "function": {"name": behaviour.name, "arguments": json.dumps(behaviour.arguments)},
            }
            await event(_chunk(request, {"tool_calls": [call]}))
            await event(_chunk(request, {}, "tool_calls"))
        else:
            for index, word in enumerate(behaviour.text.split(" ")):
                await event(_chunk(request, {"content": word if index == 0 else f" {word}"}))
            if isinstance(behaviour, CrashAfter):
                raise ConnectionAbortedError("the scripted upstream crashed mid-answer")
            await event(_chunk(request, {}, "stop"))
        if (request.get("stream_options") or {}).get("include_usage") and isinstance(behaviour, Reply):
            usage = {
                "prompt_tokens": behaviour.prompt_tokens,
                "completion_tokens": behaviour.completion_tokens,
                "total_tokens": behaviour.prompt_tokens + behaviour.completion_tokens,
            }
            chunk = json.loads(_chunk(request, {})[6:])
            chunk["choices"], chunk["usage"] = [], usage
            await event(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})

    def _completion(self, behaviour, request: dict) -> dict:
        message: dict = {"role": "assistant", "content": getattr(behaviour, "text", None)}
        if isinstance(behaviour, ToolCall):
            message["tool_calls"] = [
                {
                    "id": "call_scripted",
                    "type": "function",
                    "function": {"name": behaviour.name, "arguments": json.dumps(behaviour.arguments)},
                }
            ]
        usage = {"prompt_tokens": 321, "completion_tokens": 9, "total_tokens": 330}
        if isinstance(behaviour, Reply):
            usage = {
                "prompt_tokens": behaviour.prompt_tokens,
                "completion_tokens": behaviour.completion_tokens,
                "total_tokens": behaviour.prompt_tokens + behaviour.completion_tokens,
            }
        return {
            "id": "chatcmpl-scripted",
            "object": "chat.completion",
            "created": 0,
            "model": request.get("model", MODEL),
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if isinstance(behaviour, ToolCall) else "stop"}],
            "usage": usage,
        }


class FakeOpenAIServer:
    """``FakeOpenAI`` served on a loopback port (HTTPS when given a certificate)."""

    def __init__(self, *, certificate: Path | None = None) -> None:
        self.app = FakeOpenAI()
        self.url = ""  # known once started: the port is the one the system gave
        self._scheme = "https" if certificate else "http"
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=0,
            lifespan="off",
            log_level="critical",
            loop="asyncio",
            timeout_graceful_shutdown=1,
            ssl_certfile=str(certificate) if certificate else None,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> "FakeOpenAIServer":
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("The fake OpenAI upstream did not start")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"{self._scheme}://127.0.0.1:{port}/v1"
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def reset(self) -> None:
        self.app.script.clear()
        self.app.requests.clear()
        self.app.models_status = 200
