"""Bedrock's speculative first call: the turn's first ConverseStream request leaves while
the agent is still starting, and is read only when the agent asks for exactly it."""

import json
import socket

import pytest
from asgiref.sync import async_to_sync
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.tools import FunctionTool

from agents.events import ToolFinished, ToolStarted
from agents.providers import GenerationParams
from agents.providers.bedrock import BedrockProvider, FintalkBedrockConverse
from tests.agents.providers.conftest import answer
from tests.agents.providers.fake_bedrock import Stream, Trickle, text_turn, tool_turn

pytestmark = pytest.mark.django_db(transaction=True)

LONG_ANSWER = text_turn(*[f" word{n}" for n in range(400)])  # 20 s at 50 ms a word


@pytest.fixture
def choices(monkeypatch) -> list[bool]:
    """For each streamed model call: whether the speculation answered it."""
    taken: list[bool] = []
    original = FintalkBedrockConverse._choose

    def spied(self, wanted):
        chosen = original(self, wanted)
        taken.append(chosen is not wanted)
        return chosen

    monkeypatch.setattr(FintalkBedrockConverse, "_choose", spied)
    return taken


def test_the_speculation_is_taken_when_the_agent_asks_for_exactly_it(bedrock_endpoint, choices):
    bedrock_endpoint.script.append(Stream(text_turn("We offer personal ", "and auto loans.")))

    outcome = answer(BedrockProvider.from_settings(), "What loans do you offer?")

    assert outcome.error is None
    assert outcome.text == "We offer personal and auto loans."
    # The request sent before the agent started is the one its first call read: Bedrock
    # was asked once.
    assert choices == [True]
    assert len(bedrock_endpoint.requests) == 1


def test_a_tool_called_in_the_speculated_answer_runs_once(bedrock_endpoint, choices):
    bedrock_endpoint.script.extend(
        [
            Stream(tool_turn("<thinking>List them.</thinking>", tool="list_loan_products", arguments={})),
            Stream(text_turn("We offer personal and auto loans.")),
        ]
    )

    outcome = answer(BedrockProvider.from_settings(), "What loans do you offer?")

    assert outcome.error is None and outcome.text == "We offer personal and auto loans."
    assert [event.name for event in outcome.events if isinstance(event, ToolStarted)] == ["list_loan_products"]
    assert len([event for event in outcome.events if isinstance(event, ToolFinished)]) == 1
    # The first answer came from the speculation, the one after the tool from a new request.
    assert choices == [True, False]
    assert len(bedrock_endpoint.requests) == 2


def test_a_speculation_that_does_not_match_is_closed_and_the_real_request_sent(bedrock_endpoint):
    bedrock_endpoint.script.extend([Trickle(LONG_ANSWER, gap=0.05), Stream(text_turn("The real answer."))])
    llm = BedrockProvider.from_settings().llm(GenerationParams())
    tool = FunctionTool.from_defaults(fn=lambda: "ok", name="ping", description="Ping.")

    async def run() -> tuple[str, bool]:
        llm.speculate_with_tools([tool], chat_history=[ChatMessage(role=MessageRole.USER, content="something else")])
        assert bedrock_endpoint.wait_for_requests(1), "the speculation never left"
        stream = await llm.astream_chat([ChatMessage(role=MessageRole.USER, content="hello")])
        text = ""
        async for chunk in stream:
            text += chunk.delta or ""
        # Closed by the call that did not take it, not only when the turn ends.
        closed = bedrock_endpoint.caller_left.wait(timeout=10)
        await llm.end_turn()
        return text, closed

    text, closed = async_to_sync(run)()

    assert text == "The real answer."
    assert [r.body["messages"][0]["content"][0]["text"] for r in bedrock_endpoint.requests] == ["something else", "hello"]
    assert closed, "the unmatched speculation was read on"


def test_a_speculation_nobody_takes_is_closed_when_the_turn_ends(bedrock_endpoint):
    bedrock_endpoint.script.append(Trickle(LONG_ANSWER, gap=0.05))
    llm = BedrockProvider.from_settings().llm(GenerationParams())

    async def run() -> bool:
        llm.speculate_with_tools([], chat_history=[ChatMessage(role=MessageRole.USER, content="hello")])
        assert bedrock_endpoint.wait_for_requests(1), "the speculation never left"
        return await llm.end_turn()

    assert async_to_sync(run)() is True
    assert bedrock_endpoint.caller_left.wait(timeout=10), "the speculation was read on after the turn ended"


def test_hanging_up_during_the_speculated_answer_closes_it_upstream(bedrock_endpoint, trusted_key):
    from tests.conftest import ServerProcess

    bedrock_endpoint.script.append(Trickle(LONG_ANSWER, gap=0.05))
    fintalk = ServerProcess({"LLM_PROVIDER": "bedrock", "AWS_REGION": "us-east-1", "LLM_MAX_RETRIES": "0"})
    try:
        fintalk.wait_ready()
        host, port = fintalk.url.removeprefix("http://").split(":")
        body = json.dumps({"stream": True, "messages": [{"role": "user", "content": "tell me everything"}]})
        caller = socket.create_connection((host, int(port)))
        caller.sendall(
            (
                f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {trusted_key}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}"
            ).encode()
        )
        assert bedrock_endpoint.wait_for_requests(1), "the model request never left"
        assert caller.recv(1), "no answer started"
        caller.close()
        closed = bedrock_endpoint.caller_left.wait(timeout=10)
    finally:
        fintalk.stop()

    assert closed, "Fintalk kept reading the Bedrock stream after the caller hung up"
    assert len(bedrock_endpoint.requests) == 1
