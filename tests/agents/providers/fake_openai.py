"""A scripted OpenAI-compatible upstream: a real HTTP(S) server on a loopback port.

Each chat completion request takes the next scripted behaviour (a streamed reply, a tool
call, a ``Step`` of words and several tool calls as an attacker's model would stream them,
an error status, a silence, a crash half-way, or a function of the request); the requests
are recorded so tests can assert what Fintalk sent (and so what the model was shown).
Served by uvicorn in a thread, optionally with TLS.
"""

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
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
    arguments: dict | str = field(default_factory=dict)


@dataclass
class Step:
    """One model step: ``text`` streamed in ``chunk_size``-character pieces (word by word
    when None), then ``tool_calls`` (each with its own id; arguments as a dict, or as the
    raw JSON text a model wrote, e.g. with ``NaN``)."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    chunk_size: int | None = None

    def pieces(self) -> list[str]:
        if not self.text:
            return []
        if self.chunk_size:
            return [self.text[i : i + self.chunk_size] for i in range(0, len(self.text), self.chunk_size)]
        return [word if index == 0 else f" {word}" for index, word in enumerate(self.text.split(" "))]


@dataclass
class Respond:
    """Decide the behaviour from the request itself (e.g. from the tool results it carries)."""

    decide: Callable[[dict], object]


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


def _arguments(call: ToolCall) -> str:
    return call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments)


def _call_delta(call: ToolCall, index: int | None = None) -> dict:
    delta = {
        "id": f"call_{uuid.uuid4().hex[:16]}",
        "type": "function",
        "function": {"name": call.name, "arguments": _arguments(call)},
    }
    return delta if index is None else {"index": index, **delta}


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
        self.default: object = Reply()  # what an empty script answers

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
        behaviour = self.script.popleft() if self.script else self.default
        while isinstance(behaviour, Respond):
            behaviour = behaviour.decide(request)
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
        if isinstance(behaviour, Step):
            for piece in behaviour.pieces():
                await event(_chunk(request, {"content": piece}))
            for index, call in enumerate(behaviour.tool_calls):
                await event(_chunk(request, {"tool_calls": [_call_delta(call, index)]}))
            await event(_chunk(request, {}, "tool_calls" if behaviour.tool_calls else "stop"))
        elif isinstance(behaviour, ToolCall):
            call = {
                "index": 0,
                "id": "call_scripted",
                "type": "function",
                "function": {"name": behaviour.name, "arguments": _arguments(behaviour)},
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
        if isinstance(behaviour, Step) and behaviour.tool_calls:
            message["content"] = behaviour.text or None
            message["tool_calls"] = [_call_delta(call) for call in behaviour.tool_calls]
        if isinstance(behaviour, ToolCall):
            message["tool_calls"] = [
                {
                    "id": "call_scripted",
                    "type": "function",
                    "function": {"name": behaviour.name, "arguments": _arguments(behaviour)},
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
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}],
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
        self.app.default = Reply()
