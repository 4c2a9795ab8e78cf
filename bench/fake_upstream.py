"""A fake OpenAI-compatible upstream: paced ``chat.completion.chunk`` streams, cheaply.

A raw ASGI app (no framework) served by uvicorn with uvloop and httptools, so that at a
thousand concurrent streams the fake costs a few microseconds per token and is not what a
benchmark measures. It speaks enough of the OpenAI Chat Completions protocol for the
official ``openai`` client and LlamaIndex's ``OpenAILike``:

- ``POST /v1/chat/completions``: SSE chunks (``delta.role``, then ``delta.content`` one
  token per chunk, a last chunk with ``finish_reason``, a usage chunk when
  ``stream_options.include_usage``, ``data: [DONE]``), or one ``chat.completion``;
- an optional tool-call turn: when the behaviour names a tool that the request offers and
  the conversation does not end with a tool result, the reply is a ``tool_calls`` delta
  (``finish_reason: "tool_calls"``); the request that carries the tool result gets text;
- ``GET /v1/models``.

Pacing: the first token ``ttft_ms`` after the request, then one token every ``gap_ms``
on a fixed schedule (a late token is sent as soon as possible, never pushing the rest).
Response headers go out at once, as real servers do.

Defaults come from the command line; any request can override them with a directive in
its last user message, which passes unchanged through Fintalk to this server:
``[fake tokens=40 ttft_ms=50 gap_ms=20 tool=list_loan_products]``.

Run: ``python -m bench.fake_upstream --port 9100 --tokens 40``.
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

MODEL = "fake-upstream"
WORDS = (
    "Our personal loans run from five to thirty five thousand dollars with terms of two to "
    "six years and rates that depend on your credit history and the amount you borrow"
).split()


@dataclass(frozen=True)
class Behaviour:
    """How the fake answers: pacing, length, and whether it calls a tool first."""

    ttft_ms: float = 50.0
    tokens: int = 20
    gap_ms: float = 20.0
    tool: str = ""
    tool_arguments: str = "{}"

    def delays(self) -> Iterator[float]:
        """Seconds after the request at which each token is due."""
        for index in range(self.tokens):
            yield (self.ttft_ms + index * self.gap_ms) / 1000


_DIRECTIVE = re.compile(r"\[fake\s+([^\]]*)\]")
_FIELDS = {"ttft_ms": float, "tokens": int, "gap_ms": float, "tool": str}


def behaviour_for(request: dict, default: Behaviour) -> Behaviour:
    """The default behaviour, overridden by a ``[fake k=v ...]`` in the last user message."""
    for message in reversed(request.get("messages") or []):
        if message.get("role") == "user":
            match = _DIRECTIVE.search(_text(message.get("content")))
            if not match:
                return default
            changes = {}
            for pair in match.group(1).split():
                key, _, value = pair.partition("=")
                if key in _FIELDS:
                    changes[key] = _FIELDS[key](value)
            return replace(default, **changes)
    return default


def _text(content) -> str:
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content or ""


def _offered_tools(request: dict) -> set[str]:
    return {
        (tool.get("function") or {}).get("name", "")
        for tool in request.get("tools") or []
        if isinstance(tool, dict)
    }


def _calls_tool(request: dict, behaviour: Behaviour) -> bool:
    messages = request.get("messages") or []
    ends_with_result = bool(messages) and messages[-1].get("role") == "tool"
    return bool(behaviour.tool) and behaviour.tool in _offered_tools(request) and not ends_with_result


def _dumps(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


# Each token's delta is encoded once, at import: a stream then costs one concatenation
# per token.
_TOKEN_DELTAS = [_dumps({"content": f" {word}" if i else word}) for i, word in enumerate(WORDS)]
_TOKEN_DELTAS_LATER = [_dumps({"content": f" {word}"}) for word in WORDS]
_CHUNK_TAIL = b',"logprobs":null,"finish_reason":null}]}\n\n'
DONE = b"data: [DONE]\n\n"


def token_text(index: int) -> str:
    word = WORDS[index % len(WORDS)]
    return word if index == 0 else f" {word}"


class ChunkEncoder:
    """The SSE bytes of one stream; the constant head is encoded once."""

    def __init__(self, completion_id: str, created: int, model: str) -> None:
        self.head = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
        }
        self.prefix = b"data: " + _dumps(self.head)[:-1] + b',"choices":[{"index":0,"delta":'

    def delta(self, delta: dict, finish_reason: str | None = None) -> bytes:
        reason = b"null" if finish_reason is None else _dumps(finish_reason)
        return self.prefix + _dumps(delta) + b',"logprobs":null,"finish_reason":' + reason + b"}]}\n\n"

    def token(self, index: int) -> bytes:
        deltas = _TOKEN_DELTAS if index == 0 else _TOKEN_DELTAS_LATER
        return self.prefix + deltas[index % len(WORDS)] + _CHUNK_TAIL

    def usage(self, prompt_tokens: int, completion_tokens: int) -> bytes:
        body = {**self.head, "choices": [], "usage": _usage(prompt_tokens, completion_tokens)}
        return b"data: " + _dumps(body) + b"\n\n"


def _usage(prompt_tokens: int, completion_tokens: int) -> dict:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _prompt_tokens(request: dict) -> int:
    # A rough count (four characters a token) is all a fake needs to report.
    return sum(len(_text(m.get("content"))) // 4 + 4 for m in request.get("messages") or [])


class FakeUpstream:
    """The ASGI application."""

    def __init__(self, behaviour: Behaviour | None = None, model: str = MODEL) -> None:
        self.behaviour = behaviour or Behaviour()
        self.model = model
        self._ids = itertools.count(1)
        self.requests_served = 0
        # Client addresses seen: how many connections callers opened (keep-alive at work).
        self.clients: set[tuple] = set()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"].rstrip("/"), scope["method"]
        if path == "/v1/chat/completions" and method == "POST":
            self.clients.add(tuple(scope.get("client") or ()))
            await self._chat(receive, send)
        elif path == "/v1/models" and method == "GET":
            models = {
                "object": "list",
                "data": [{"id": self.model, "object": "model", "created": 0, "owned_by": "bench"}],
            }
            await _json(send, 200, models)
        elif path == "/healthz":
            await _json(
                send,
                200,
                {
                    "status": "ok",
                    "requests_served": self.requests_served,
                    "connections_seen": len(self.clients),
                },
            )
        else:
            await _json(send, 404, _error(f"No endpoint at {method} {path}.", "not_found"))

    async def _chat(self, receive, send) -> None:
        started = time.perf_counter()
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            request = json.loads(body)
            if not isinstance(request, dict) or not isinstance(request.get("messages"), list):
                raise ValueError("'messages' must be a list")
        except ValueError as error:
            await _json(send, 400, _error(f"Invalid request: {error}", "invalid_request_error"))
            return
        behaviour = behaviour_for(request, self.behaviour)
        max_tokens = request.get("max_tokens") or request.get("max_completion_tokens")
        if isinstance(max_tokens, int) and max_tokens < behaviour.tokens:
            behaviour, finish = replace(behaviour, tokens=max_tokens), "length"
        else:
            finish = "stop"
        completion_id = f"chatcmpl-fake-{next(self._ids)}"
        model = request.get("model") or self.model
        self.requests_served += 1
        if request.get("stream"):
            include_usage = bool((request.get("stream_options") or {}).get("include_usage"))
            await self._stream(send, request, behaviour, finish, started, completion_id, model, include_usage)
        else:
            await self._complete(send, request, behaviour, finish, started, completion_id, model)

    async def _stream(
        self, send, request, behaviour, finish, started, completion_id, model, include_usage
    ) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": _SSE_HEADERS})
        encoder = ChunkEncoder(completion_id, int(time.time()), model)
        if _calls_tool(request, behaviour):
            await _sleep_until(started + behaviour.ttft_ms / 1000)
            call = {
                "index": 0,
                "id": _call_id(completion_id),
                "type": "function",
                "function": {"name": behaviour.tool, "arguments": behaviour.tool_arguments},
            }
            body = (
                encoder.delta({"role": "assistant", "content": None, "tool_calls": [call]})
                + encoder.delta({}, "tool_calls")
                + (encoder.usage(_prompt_tokens(request), 8) if include_usage else b"")
                + DONE
            )
            await send({"type": "http.response.body", "body": body})
            return
        sent = 0
        for index, due in enumerate(behaviour.delays()):
            await _sleep_until(started + due)
            chunk = encoder.token(index)
            if index == 0:
                chunk = encoder.delta({"role": "assistant", "content": ""}) + chunk
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            sent += 1
        tail = encoder.delta({}, finish)
        if include_usage:
            tail += encoder.usage(_prompt_tokens(request), sent)
        await send({"type": "http.response.body", "body": tail + DONE})

    async def _complete(self, send, request, behaviour, finish, started, completion_id, model) -> None:
        await _sleep_until(started + (max(behaviour.delays(), default=behaviour.ttft_ms / 1000)))
        message: dict = {"role": "assistant"}
        if _calls_tool(request, behaviour):
            message["content"] = None
            message["tool_calls"] = [
                {
                    "id": _call_id(completion_id),
                    "type": "function",
                    "function": {"name": behaviour.tool, "arguments": behaviour.tool_arguments},
                }
            ]
            finish, completion_tokens = "tool_calls", 8
        else:
            message["content"] = "".join(token_text(i) for i in range(behaviour.tokens))
            completion_tokens = behaviour.tokens
        await _json(
            send,
            200,
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
                "usage": _usage(_prompt_tokens(request), completion_tokens),
            },
        )


def _call_id(completion_id: str) -> str:
    return "call_" + completion_id.removeprefix("chatcmpl-").replace("-", "_")


_SSE_HEADERS = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]


async def _sleep_until(deadline: float) -> None:
    delay = deadline - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


def _error(message: str, kind: str) -> dict:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


async def _json(send, status: int, value: dict) -> None:
    body = _dumps(value)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def uvicorn_config(app: FakeUpstream, host: str, port: int):
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_level="warning",
        access_log=False,
        backlog=4096,
        timeout_keep_alive=75,
    )


@contextlib.contextmanager
def serve_in_thread(behaviour: Behaviour | None = None, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve a fake upstream on a free port in a background thread; yields its ``/v1`` URL."""
    yield from serve_asgi_in_thread(FakeUpstream(behaviour), host)


def serve_asgi_in_thread(app, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve any ASGI ``app`` with uvicorn on a free port in a background thread; yields its
    ``/v1`` URL and stops the server when resumed. Raises ``RuntimeError`` if it does not start
    within 10 s."""
    import socket

    import uvicorn

    sock = socket.socket()
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn_config(app, host, port)
    config.lifespan = "auto"  # an app of a test's may not speak ASGI's lifespan
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("The fake upstream did not start.")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--ttft-ms", type=float, default=50.0, help="time to first token (default 50)")
    parser.add_argument("--gap-ms", type=float, default=20.0, help="time between tokens (default 20)")
    parser.add_argument("--tokens", type=int, default=20, help="tokens per answer (default 20)")
    parser.add_argument("--tool", default="", help="call this tool first when the request offers it")
    parser.add_argument("--tool-arguments", default="{}", help="the tool call's JSON arguments")
    parser.add_argument("--model", default=MODEL)
    args = parser.parse_args(argv)
    import uvicorn

    behaviour = Behaviour(args.ttft_ms, args.tokens, args.gap_ms, args.tool, args.tool_arguments)
    uvicorn.Server(uvicorn_config(FakeUpstream(behaviour, args.model), args.host, args.port)).run()


if __name__ == "__main__":
    main()
