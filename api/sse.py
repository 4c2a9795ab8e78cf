"""OpenAI ``chat.completion.chunk`` framing for Server-Sent Events.

The parts of a chunk that never change during a stream are encoded once; each token then
costs one ``json.dumps`` of its text and a few byte concatenations.
"""

import json

DONE = b"data: [DONE]\n\n"
# A comment line: SSE clients (the openai SDK included) ignore it; proxies see traffic.
KEEPALIVE_COMMENT = b": keep-alive\n\n"


def _dumps(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


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

    def finish(self, reason: str) -> bytes:
        return self._choice({}, reason)

    def usage(self, usage: dict) -> bytes:
        return self._event(choices=[], usage=usage)

    def error(self, error_body: dict) -> bytes:
        # ``choices`` is present (empty) because some clients (Vapi) reject chunks without it.
        return self._event(choices=[], **error_body)
