"""Framings of the answer's events as Server-Sent Events.

``ChunkWriter`` is OpenAI's ``chat.completion.chunk`` format; ``ContentEventWriter`` is the
simpler ``{"content"}``/``{"tool"}``/``{"done"}``/``{"error"}`` format of the session endpoints. The
parts of a chunk that never change during a stream are encoded once; each token then
costs one ``json.dumps`` of its text and a few byte concatenations.
"""

import json
from typing import Protocol

DONE = b"data: [DONE]\n\n"
# A comment line: SSE clients (the openai SDK included) ignore it; proxies see traffic.
KEEPALIVE_COMMENT = b": keep-alive\n\n"


def _dumps(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


class Framing(Protocol):
    def role(self) -> bytes | None: ...
    def content(self, text: str) -> bytes: ...
    def tool_call(self, index: int, *, call_id: str, name: str, arguments: dict) -> bytes: ...
    def tool_activity(self, *, call_id: str, name: str, finished: bool, ok: bool) -> bytes | None: ...
    def finish(self, reason: str) -> bytes: ...
    def usage(self, usage: dict) -> bytes: ...
    def error(self, error_body: dict) -> bytes: ...
    def done(self) -> bytes | None: ...


class ChunkWriter:
    def __init__(self, *, completion_id: str, created: int, model: str) -> None:
        self._head = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": None,
        }
        head = _dumps(self._head)[:-1]
        self._content_prefix = b"data: " + head + b',"choices":[{"index":0,"delta":{"content":'
        self._content_suffix = b'},"logprobs":null,"finish_reason":null}]}\n\n'

    def _event(self, **fields) -> bytes:
        return b"data: " + _dumps({**self._head, **fields}) + b"\n\n"

    def _choice(self, delta: dict, finish_reason: str | None = None) -> bytes:
        return self._event(
            choices=[{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]
        )

    def role(self) -> bytes:
        return self._choice({"role": "assistant", "content": ""})

    def content(self, text: str) -> bytes:
        return self._content_prefix + _dumps(text) + self._content_suffix

    def tool_call(self, index: int, *, call_id: str, name: str, arguments: dict) -> bytes:
        call = {
            "index": index,
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)},
        }
        return self._choice({"tool_calls": [call]})

    def tool_activity(self, *, call_id: str, name: str, finished: bool, ok: bool) -> None:
        return None  # OpenAI's chunk format has no place for the bank's own tools

    def finish(self, reason: str) -> bytes:
        return self._choice({}, reason)

    def usage(self, usage: dict) -> bytes:
        return self._event(choices=[], usage=usage)

    def error(self, error_body: dict) -> bytes:
        # ``choices`` is present (empty) because some clients (Vapi) reject chunks without it.
        return self._event(choices=[], **error_body)

    def done(self) -> bytes:
        return DONE


class ContentEventWriter:
    """``data: {"content": ...}`` per chunk, ``{"done": true}`` at the end, ``{"error": ...}``."""

    def role(self) -> None:
        return None

    def content(self, text: str) -> bytes:
        return b'data: {"content":' + _dumps(text) + b"}\n\n"

    def tool_call(self, index: int, *, call_id: str, name: str, arguments: dict) -> bytes:
        return b"data: " + _dumps({"tool_call": {"id": call_id, "name": name, "arguments": arguments}}) + b"\n\n"

    def tool_activity(self, *, call_id: str, name: str, finished: bool, ok: bool) -> bytes:
        """``{"tool": {"id", "name", "status": "started"}}`` when a bank tool starts, then
        ``{"tool": {..., "status": "finished", "ok": bool}}``: what the caller waits for
        (the chat page shows "checking your balances…"); never its arguments or result."""
        tool = {"id": call_id, "name": name, "status": "finished" if finished else "started"}
        if finished:
            tool["ok"] = ok
        return b"data: " + _dumps({"tool": tool}) + b"\n\n"

    def finish(self, reason: str) -> bytes:
        return b"data: " + _dumps({"done": True, "finish_reason": reason}) + b"\n\n"

    def usage(self, usage: dict) -> bytes:
        return b"data: " + _dumps({"usage": usage}) + b"\n\n"

    def error(self, error_body: dict) -> bytes:
        error = error_body["error"]
        return b"data: " + _dumps({"error": error["message"], "code": error["code"]}) + b"\n\n"

    def done(self) -> None:
        return None
