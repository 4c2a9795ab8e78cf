"""Answers going out over MQTT: one JSON object per message, in order, QoS 1.

A streamed answer is the SSE stream's ``chat.completion.chunk`` objects, one per message,
then the literal ``[DONE]``. Text is not published word by word blindly: while one message
waits for the broker's acknowledgement, the words that arrive meanwhile are joined into
the next chunk, so a fast answer over a slow broker becomes fewer, larger messages. No
message exceeds ``MQTT_MAX_MESSAGE_BYTES``: a long run of text is split across chunks.
"""

import asyncio
import json

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from api.errors import error_body
from api.sse import ChunkWriter
from fintalk import errors

DONE = b"[DONE]"
_SSE_PREFIX = b"data: "
_SSE_SUFFIX = b"\n\n"


def _dumps(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _unframe(event: bytes) -> bytes:
    """The JSON of one SSE ``data:`` event."""
    assert event.startswith(_SSE_PREFIX) and event.endswith(_SSE_SUFFIX), event[:40]
    return event[len(_SSE_PREFIX) : -len(_SSE_SUFFIX)]


def envelope(error: errors.FintalkError) -> bytes:
    """The OpenAI error envelope of ``error``, as a message payload."""
    return _dumps(error_body(error.message, type=error.type, param=error.param, code=error.code))


class Text(str):
    """Answer text not yet framed: adjacent pieces are joined before they are published."""


class ChunkMessages:
    """A framing (``api.framing.Framing``) for ``api.reply``: SSE's chunks without the SSE.

    Every method returns one message payload (``finish`` a tuple of them), except
    ``content``, which returns ``Text`` for the publisher to join and frame with
    ``content_message``. Errors are the bare OpenAI envelope; keep-alives are not sent.
    """

    streams = True

    def __init__(self, *, completion_id: str, created: int, model: str, include_usage: bool = False) -> None:
        self._chunks = ChunkWriter(
            completion_id=completion_id, created=created, model=model, include_usage=include_usage
        )
        self.empty_content_bytes = len(self.content_message(""))

    def opening(self) -> bytes:
        return _unframe(self._chunks.opening())

    def content(self, text: str) -> Text:
        return Text(text)

    def content_message(self, text: str) -> bytes:
        return _unframe(self._chunks.content(text))

    def tool_call(self, index: int, *, call_id: str, name: str, arguments: dict) -> bytes:
        return _unframe(self._chunks.tool_call(index, call_id=call_id, name=name, arguments=arguments))

    def tool_activity(self, *, call_id: str, name: str, finished: bool, ok: bool) -> None:
        return None  # as in the SSE chunks: nothing for the bank's own tools

    def keepalive(self) -> None:
        return None

    def finish(self, reason: str, usage: dict) -> tuple[bytes, ...]:
        """The finish chunk, and the usage chunk when the request asked for usage."""
        events = self._chunks.finish(reason, usage).split(_SSE_SUFFIX)[:-1]
        return tuple(_unframe(event + _SSE_SUFFIX) for event in events)

    def error(self, error_body: dict) -> bytes:
        return _dumps(error_body)

    def closing(self) -> bytes:
        return DONE


def split_text(text: str, *, budget: int) -> list[str]:
    """``text`` in pieces whose JSON string encoding is at most ``budget`` bytes each."""
    if len(_dumps(text)) <= budget:
        return [text]
    pieces: list[str] = []
    start, size = 0, 2  # the quotes
    for index, char in enumerate(text):
        width = len(_dumps(char)) - 2
        if size + width > budget and index > start:
            pieces.append(text[start:index])
            start, size = index, 2
        size += width
    pieces.append(text[start:])
    return pieces


class Reply:
    """The reply topic of one request: publishes its messages in order, QoS 1.

    Every message carries the request's correlation data (MQTT 5); errors also carry the
    user properties ``status`` (the HTTP status the error would have) and, when rate
    limited, ``retry-after`` (seconds). ``finished`` turns true once the last message
    (``[DONE]``, a whole ``chat.completion`` or a non-streamed error) is published.
    """

    def __init__(
        self, client: aiomqtt.Client, *, topic: str, correlation: bytes | None, max_bytes: int
    ) -> None:
        self.topic = topic
        self.max_bytes = max_bytes
        self.finished = False
        self._client = client
        self._correlation = correlation

    def _properties(self, error: errors.FintalkError | None) -> Properties | None:
        properties = Properties(PacketTypes.PUBLISH)
        if self._correlation is not None:
            properties.CorrelationData = self._correlation
        if error is not None:
            pairs = [("status", str(error.status))]
            if isinstance(error, errors.RateLimited):
                pairs.append(("retry-after", str(error.retry_after)))
            properties.UserProperty = pairs
        properties.ContentType = "application/json"
        return properties

    async def publish(self, payload: bytes, *, last: bool = False, error: errors.FintalkError | None = None) -> None:
        """Publish one message and wait for the broker's acknowledgement."""
        if len(payload) > self.max_bytes:
            error = errors.FintalkError(
                "A part of the answer is larger than MQTT_MAX_MESSAGE_BYTES; it was not sent.",
                code="response_too_large",
            )
            payload = envelope(error)
        await self._client.publish(self.topic, payload, qos=1, properties=self._properties(error))
        if last:
            self.finished = True

    async def publish_error(self, error: errors.FintalkError, *, stream: bool) -> None:
        """The OpenAI error envelope, then ``[DONE]`` when the request asked for a stream."""
        await self.publish(envelope(error), last=not stream, error=error)
        if stream:
            await self.publish(DONE, last=True)


class StreamPublisher:
    """Publishes a streamed answer's messages as fast as the broker takes them.

    ``put`` never waits: the framing's messages queue here, and text that queues while
    the previous message is being acknowledged is joined into one chunk.
    """

    def __init__(self, reply: Reply, framing: ChunkMessages) -> None:
        self._reply = reply
        self._framing = framing
        self._text_budget = reply.max_bytes - framing.empty_content_bytes + 2
        self._queue: list[bytes | Text] = []
        self._ready = asyncio.Event()
        self._closed = False

    def put(self, item: bytes | Text | tuple[bytes, ...]) -> None:
        if isinstance(item, tuple):
            self._queue.extend(item)
        else:
            self._queue.append(item)
        self._ready.set()

    def close(self) -> None:
        self._closed = True
        self._ready.set()

    def _messages(self, items: list[bytes | Text]) -> list[bytes]:
        messages: list[bytes] = []
        text: list[str] = []
        for item in [*items, None]:
            if isinstance(item, Text):
                text.append(item)
                continue
            if text:
                joined = "".join(text)
                messages.extend(
                    self._framing.content_message(piece)
                    for piece in split_text(joined, budget=self._text_budget)
                )
                text = []
            if item is not None:
                messages.append(item)
        return messages

    async def run(self) -> None:
        """Publish until ``close`` and an empty queue; ``[DONE]`` ends the reply."""
        while True:
            await self._ready.wait()
            self._ready.clear()
            items, self._queue = self._queue, []
            for message in self._messages(items):
                await self._reply.publish(message, last=message == DONE)
            if self._closed and not self._queue:
                return
