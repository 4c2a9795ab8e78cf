"""The reply loop records each turn from the events it sends: what reached the client,
what the model generated, and how the turn ended."""

import asyncio
import time

from django.utils import timezone

from agents.events import Answered, ProviderAnswering, TextDelta, Usage
from api.completions import Completion
from api.models import ApiKey
from api.reply import reply_frames, reply_start
from api.sse import ChunkWriter
from conversations.models import Status
from conversations.recording import TurnFacts, TurnRecord, TurnRecorder

WORDS = [f" word{index}" for index in range(50)]


async def instant_answer():
    """A model that has its whole answer at once: it runs far ahead of the client."""
    yield ProviderAnswering("offline", "fintalk-offline")
    for word in WORDS:
        yield TextDelta(word)
    yield Answered("stop", Usage(30, 50, estimated=True), answered_by="offline", answered_model="fintalk-offline")


def chunks() -> ChunkWriter:
    return ChunkWriter(completion_id="chatcmpl-test", created=0, model="fintalk-offline")


def completion_of(events) -> tuple[Completion, list[TurnRecord]]:
    submitted: list[TurnRecord] = []
    started = time.perf_counter()
    facts = TurnFacts(
        completion_id="chatcmpl-test",
        channel="api",
        provider="offline",
        model="fintalk-offline",
        streamed=True,
        started_at=timezone.now(),
        started=started,
        messages=(("user", "tell me everything"),),
    )
    completion = Completion(
        id="chatcmpl-test",
        created=0,
        model="fintalk-offline",
        stream=True,
        include_usage=False,
        api_key=ApiKey(name="unsaved", tokens_per_day=None),
        provider="offline",
        started=started,
        events=events,
        recorder=TurnRecorder(facts, submit=submitted.append),
    )
    return completion, submitted


def test_a_client_that_leaves_after_two_words_is_recorded_with_those_two_words_and_the_tokens_spent():
    async def scenario():
        completion, submitted = completion_of(instant_answer())
        pump, first = await reply_start(completion)
        frames = reply_frames(completion, pump, first, chunks())
        received = []
        async for frame in frames:
            if b'"content":" word' in frame:
                received.append(frame)
            if len(received) == 2:
                break
        await asyncio.sleep(0)  # the model has long finished: everything is queued
        await frames.aclose()  # the client hung up
        return submitted

    (record,) = asyncio.run(scenario())

    assert record.status == Status.CANCELLED
    assert record.answer == "".join(WORDS[:2])
    assert record.generated_chars == len("".join(WORDS))
    assert record.prompt_tokens > 0 and record.completion_tokens >= 50
    assert record.answered_by == "offline"


def test_a_finished_stream_is_recorded_once_as_completed_with_the_whole_answer():
    async def scenario():
        completion, submitted = completion_of(instant_answer())
        pump, first = await reply_start(completion)
        frames = [frame async for frame in reply_frames(completion, pump, first, chunks())]
        return frames, submitted

    frames, submitted = asyncio.run(scenario())

    (record,) = submitted
    assert frames[-1] == b"data: [DONE]\n\n"
    assert record.status == Status.COMPLETED and record.finish_reason == "stop"
    assert record.answer == "".join(WORDS)
    assert (record.prompt_tokens, record.completion_tokens) == (30, 50)
