"""Bedrock without a cap: many streams open at once, and a stream nobody reads is closed."""

import asyncio
import threading

import pytest
from asgiref.sync import async_to_sync
from llama_index.core.base.llms.types import ChatMessage, MessageRole

from agents.answering import Answered, answer_turn
from agents.caller import CallerContext
from agents.events import TextDelta
from agents.providers import GenerationParams
from agents.providers.bedrock import BedrockProvider, bedrock_executor
from agents.runner import Turn
from tests.agents.providers.fake_bedrock import Gathered, Trickle, text_turn

pytestmark = pytest.mark.django_db(transaction=True)

STREAMS = 32


def test_32_simultaneous_streams_are_all_open_upstream_at_once(bedrock_endpoint):
    bedrock_endpoint.script.extend(Gathered(STREAMS, text_turn("Hello", " there.")) for _ in range(STREAMS))
    provider = BedrockProvider.from_settings()

    async def one(index: int) -> str:
        turn = Turn(messages=[ChatMessage(role=MessageRole.USER, content="hello")], caller=CallerContext())
        text = ""
        async for event in answer_turn(
            turn, provider=provider, params=GenerationParams(), fallbacks=()
        ):
            if isinstance(event, TextDelta):
                text += event.text
            assert not isinstance(event, Answered) or event.reason == "stop"
        return text

    async def all_at_once() -> list[str]:
        return await asyncio.gather(*(one(index) for index in range(STREAMS)))

    texts = async_to_sync(all_at_once)()

    # Each reply was held back until all 32 requests were open at the endpoint together.
    assert bedrock_endpoint.most_open == STREAMS
    assert texts == ["Hello there."] * STREAMS


def test_a_stream_nobody_reads_any_more_is_closed_upstream(bedrock_endpoint):
    bedrock_endpoint.script.append(Trickle(text_turn(*[f" word{n}" for n in range(400)]), gap=0.05))
    llm = BedrockProvider.from_settings().llm(GenerationParams())

    async def read_two_then_hang_up() -> list[str]:
        stream = await llm.astream_chat([ChatMessage(role=MessageRole.USER, content="tell me everything")])
        deltas = []
        async for chunk in stream:
            if chunk.delta:
                deltas.append(chunk.delta)
            if len(deltas) == 2:
                break
        await stream.aclose()
        return deltas

    deltas = async_to_sync(read_two_then_hang_up)()

    assert deltas == [" word0", " word1"]
    # 400 words at 50 ms would take 20 s; the endpoint notices the closed stream long before.
    assert bedrock_endpoint.caller_left.wait(timeout=10), "the Bedrock stream was read on after the hang-up"


def test_every_thread_of_the_bedrock_pool_is_started_before_the_first_call():
    def bedrock_threads() -> int:
        return sum(thread.name.startswith("bedrock") for thread in threading.enumerate())

    before = bedrock_threads()
    bedrock_executor(7)  # a size no other test uses: a pool of its own

    assert bedrock_threads() - before == 7


def test_a_host_that_allows_fewer_threads_still_gets_a_working_pool(monkeypatch):
    # A host's thread limit (a container's pids limit) below the pool's size: start-up
    # starts what it can instead of failing, and calls still run.
    start = threading.Thread.start
    allowed = 3

    def limited(thread):
        nonlocal allowed
        if thread.name.startswith("bedrock"):
            if not allowed:
                raise RuntimeError("can't start new thread")
            allowed -= 1
        return start(thread)

    monkeypatch.setattr(threading.Thread, "start", limited)
    executor = bedrock_executor(9)  # a size no other test uses: a pool of its own
    monkeypatch.undo()

    assert executor.submit(lambda: 42).result() == 42
