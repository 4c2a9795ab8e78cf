"""How an answer's events are written on the wire: the ``Framing`` interface, and JSON.

``api.reply`` drives one framing per request through the same loop, like DRF renderers:

- ``api.sse.ChunkWriter``: OpenAI ``chat.completion.chunk`` Server-Sent Events;
- ``api.sse.ContentEventWriter``: the session endpoints' ``{content}``/``{done}``/``{error}``;
- ``ChatCompletionJson``: one OpenAI ``chat.completion`` document;
- ``AgentQueryJson``: the front end's ``{id, response, finish_reason, usage}`` document.

A streaming framing writes each event as it happens; a JSON framing writes nothing until
``closing``, and errors are raised instead of framed (the response has no status yet).
"""

import json
from typing import Protocol


class Framing(Protocol):
    streams: bool  # True: write events as they come and frame errors; False: one document

    def opening(self) -> bytes | None: ...
    def content(self, text: str) -> bytes | None: ...
    def tool_call(self, index: int, *, call_id: str, name: str, arguments: dict) -> bytes | None: ...
    def tool_activity(self, *, call_id: str, name: str, finished: bool, ok: bool) -> bytes | None:
        """A bank tool started (or finished, ``ok`` or not); never its arguments or result."""
    def keepalive(self) -> bytes | None: ...
    def finish(self, reason: str, usage: dict) -> bytes | None:
        """The answer ended for ``reason`` ("stop", "length", "tool_calls"), costing ``usage``."""
    def error(self, error_body: dict) -> bytes | None:
        """A failure after the first byte (streaming framings only), as the OpenAI envelope."""
    def closing(self) -> bytes | None: ...


class _Document:
    """Gathers the answer; subclasses render it as one JSON document."""

    streams = False
    content_type = "application/json"

    def __init__(self, *, completion_id: str, created: int, model: str) -> None:
        self.id = completion_id
        self.created = created
        self.model = model
        self._text: list[str] = []
        self.tool_calls: list[dict] = []
        self.reason = ""
        self.usage: dict = {}

    @property
    def text(self) -> str | None:
        """The answer's words; None when the answer is tool calls only."""
        return "".join(self._text) if self._text or not self.tool_calls else None

    def opening(self) -> None:
        return None

    def content(self, text: str) -> None:
        self._text.append(text)

    def tool_call(self, index: int, *, call_id: str, name: str, arguments: dict) -> None:
        self.tool_calls.append(
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
        )

    def tool_activity(self, *, call_id: str, name: str, finished: bool, ok: bool) -> None:
        return None

    def keepalive(self) -> None:
        return None

    def finish(self, reason: str, usage: dict) -> None:
        self.reason, self.usage = reason, usage

    def error(self, error_body: dict) -> None:
        raise AssertionError("a document's errors are raised, not framed")

    def document(self) -> dict:
        raise NotImplementedError

    def closing(self) -> bytes:
        return json.dumps(self.document(), ensure_ascii=False).encode()


class ChatCompletionJson(_Document):
    """OpenAI's non-streaming ``chat.completion``."""

    def document(self) -> dict:
        message: dict = {"role": "assistant", "content": self.text, "refusal": None}
        if self.tool_calls:
            message["tool_calls"] = self.tool_calls
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": None,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": self.reason}],
            "usage": self.usage,
        }


class AgentQueryJson(_Document):
    """``POST /api/agent/query/``'s reply."""

    def document(self) -> dict:
        return {"id": self.id, "response": self.text, "finish_reason": self.reason, "usage": self.usage}
