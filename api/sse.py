"""Framings of the answer's events as Server-Sent Events.

``ChunkWriter`` is OpenAI's ``chat.completion.chunk`` format; ``ContentEventWriter`` is the
simpler ``{"content"}``/``{"tool"}``/``{"done"}``/``{"error"}`` format of the session endpoints. The
parts of a chunk that never change during a stream are encoded once; each token then
costs one JSON string encoding of its text and a few byte concatenations.

Both implement ``api.framing.Framing``; ``api.reply`` drives them.
"""

import json

DONE = b"data: [DONE]\n\n"
# A comment line: SSE clients (the openai SDK included) ignore it; proxies see traffic.
KEEPALIVE_COMMENT = b": keep-alive\n\n"


def _dumps(value) -> bytes:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode()
    except UnicodeEncodeError:
        # A lone surrogate (a model can write one) has no UTF-8: JSON's \u escape carries it.
        return json.dumps(value, separators=(",", ":")).encode()


_quoted = json.encoder.encode_basestring  # a str as JSON, as ``_dumps`` writes it


def _text(text: str) -> bytes:
    """``_dumps(text)`` for a string, without building an encoder per call."""
    try:
        return _quoted(text).encode()
    except UnicodeEncodeError:
        return _dumps(text)


def _event(value) -> bytes:
    return b"data: " + _dumps(value) + b"\n\n"


class ChunkWriter:
    """OpenAI's ``chat.completion.chunk`` events, then ``data: [DONE]``.

    With ``include_usage`` every chunk carries ``"usage": null`` and one more chunk with
    ``choices: []`` and the usage follows the finish, as OpenAI sends them.
    """

    streams = True

    def __init__(self, *, completion_id: str, created: int, model: str, include_usage: bool = False) -> None:
        self._head = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": None,
        }
        self._include_usage = include_usage
        self._tail = {"usage": None} if include_usage else {}
        head = _dumps(self._head)[:-1]
        self._content_prefix = b"data: " + head + b',"choices":[{"index":0,"delta":{"content":'
        usage = b',"usage":null' if include_usage else b""
        self._content_suffix = b'},"logprobs":null,"finish_reason":null}]' + usage + b"}\n\n"

    def _chunk(self, **fields) -> bytes:
        return _event({**self._head, **fields})

    def _choice(self, delta: dict, finish_reason: str | None = None) -> bytes:
        return self._chunk(
            choices=[{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
            **self._tail,
        )

    def opening(self) -> bytes:
        return self._choice({"role": "assistant", "content": ""})

    def content(self, text: str) -> bytes:
        return self._content_prefix + _text(text) + self._content_suffix

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

    def keepalive(self) -> bytes:
        return KEEPALIVE_COMMENT

    def finish(self, reason: str, usage: dict) -> bytes:
        finish = self._choice({}, reason)
        if self._include_usage:
            return finish + self._chunk(choices=[], usage=usage)
        return finish

    def error(self, error_body: dict) -> bytes:
        # ``choices`` is present (empty) because some clients (Vapi) reject chunks without it.
        return self._chunk(choices=[], **error_body)

    def closing(self) -> bytes:
        return DONE


class ContentEventWriter:
    """``data: {"content": ...}`` per chunk, ``{"done": true}`` at the end, ``{"error": ...}``."""

    streams = True

    def opening(self) -> None:
        return None

    def content(self, text: str) -> bytes:
        return b'data: {"content":' + _text(text) + b"}\n\n"

    def tool_call(self, index: int, *, call_id: str, name: str, arguments: dict) -> bytes:
        return _event({"tool_call": {"id": call_id, "name": name, "arguments": arguments}})

    def tool_activity(self, *, call_id: str, name: str, finished: bool, ok: bool) -> bytes:
        """``{"tool": {"id", "name", "status": "started"}}`` when a bank tool starts, then
        ``{"tool": {..., "status": "finished", "ok": bool}}``: what the caller waits for
        (the chat page shows "checking your balances…"); never its arguments or result."""
        tool = {"id": call_id, "name": name, "status": "finished" if finished else "started"}
        if finished:
            tool["ok"] = ok
        return _event({"tool": tool})

    def keepalive(self) -> bytes:
        return KEEPALIVE_COMMENT

    def finish(self, reason: str, usage: dict) -> bytes:
        return _event({"done": True, "finish_reason": reason})

    def error(self, error_body: dict) -> bytes:
        error = error_body["error"]
        return _event({"error": error["message"], "code": error["code"]})

    def closing(self) -> None:
        return None
