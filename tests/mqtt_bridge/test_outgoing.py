"""Answer messages: chunk framing, coalescing while the broker acknowledges, size limits."""

import asyncio
import json

import pytest

from api.framing import Framing
from mqtt_bridge.outgoing import DONE, ChunkMessages, StreamPublisher, Text, split_text


def encoded_size(text: str) -> int:
    return len(json.dumps(text, ensure_ascii=False).encode())


@pytest.mark.parametrize("text", ["plain words " * 50, "€ and \"quotes\" and \n" * 40, "x"])
def test_split_text_keeps_every_piece_within_budget_and_loses_nothing(text):
    pieces = split_text(text, budget=64)

    assert "".join(pieces) == text
    assert all(encoded_size(piece) <= 64 for piece in pieces)


class SlowReply:
    """A reply topic whose broker acknowledges each message only when the test says so."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.published: list[bytes] = []
        self.acknowledge = asyncio.Semaphore(0)
        self.waiting = asyncio.Event()

    async def publish(self, payload: bytes, *, last: bool = False) -> None:
        self.published.append(payload)
        self.waiting.set()
        await self.acknowledge.acquire()


def test_text_that_arrives_while_the_broker_is_busy_is_joined_into_one_chunk():
    async def scenario():
        reply = SlowReply(max_bytes=4096)
        framing = ChunkMessages(completion_id="chatcmpl-1", created=0, model="m")
        publisher = StreamPublisher(reply, framing)
        running = asyncio.create_task(publisher.run())
        publisher.put(framing.opening())
        await reply.waiting.wait()  # the role chunk is waiting for its acknowledgement
        for word in ("Your ", "balance ", "is ", "$5."):
            publisher.put(framing.content(word))
        publisher.put(framing.finish("stop", {}))
        publisher.put(framing.closing())
        publisher.close()
        for _ in range(4):
            reply.acknowledge.release()
        await running
        return reply.published

    published = asyncio.run(scenario())

    assert published[-1] == DONE
    decoded = [json.loads(message) for message in published[:-1]]
    assert [chunk["choices"][0]["delta"] for chunk in decoded] == [
        {"role": "assistant", "content": ""},
        {"content": "Your balance is $5."},
        {},
    ]


def test_no_chunk_exceeds_the_message_size_limit():
    async def scenario():
        reply = SlowReply(max_bytes=4096)
        for _ in range(100):
            reply.acknowledge.release()
        framing = ChunkMessages(completion_id="chatcmpl-1", created=0, model="m")
        publisher = StreamPublisher(reply, framing)
        publisher.put(Text("é" * 10_000))
        publisher.close()
        await publisher.run()
        return reply.published

    published = asyncio.run(scenario())

    assert len(published) > 1
    assert all(len(message) <= 4096 for message in published)
    assert "".join(json.loads(m)["choices"][0]["delta"]["content"] for m in published) == "é" * 10_000


def test_chunk_messages_is_a_complete_framing():
    wanted = {name for name in [*vars(Framing), *Framing.__annotations__] if not name.startswith("_")}

    assert wanted <= set(dir(ChunkMessages)), wanted - set(dir(ChunkMessages))
