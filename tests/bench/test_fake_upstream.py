"""The benchmark's fake upstream speaks OpenAI's protocol as the real clients expect it."""

import asyncio
import json

import httpx
import openai
import pytest
from llama_index.core.agent.workflow import AgentStream, FunctionAgent, ToolCallResult
from llama_index.core.tools import FunctionTool
from llama_index.llms.openai_like import OpenAILike

from bench.fake_upstream import Behaviour, behaviour_for, serve_in_thread, token_text

INSTANT = Behaviour(ttft_ms=0, gap_ms=0, tokens=5)


def expected_text(tokens: int) -> str:
    return "".join(token_text(index) for index in range(tokens))


@pytest.fixture(scope="module")
def upstream_url():
    with serve_in_thread(INSTANT) as url:
        yield url


@pytest.fixture(scope="module")
def tool_upstream_url():
    with serve_in_thread(Behaviour(ttft_ms=0, gap_ms=0, tokens=4, tool="list_loan_products")) as url:
        yield url


@pytest.fixture
def client(upstream_url):
    return openai.OpenAI(base_url=upstream_url, api_key="bench", max_retries=0)


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


LOAN_TOOL = {
    "type": "function",
    "function": {"name": "list_loan_products", "parameters": {"type": "object", "properties": {}}},
}


def test_streams_the_configured_tokens_one_per_chunk_then_stops(client):
    chunks = list(client.chat.completions.create(model="m", messages=user("hi"), stream=True))

    contents = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert contents == [token_text(i) for i in range(5)]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert len({chunk.id for chunk in chunks}) == 1


def test_stream_ends_with_done_after_a_usage_chunk_when_asked(upstream_url):
    body = {"messages": user("hi"), "stream": True, "stream_options": {"include_usage": True}}
    response = httpx.post(f"{upstream_url}/chat/completions", json=body)

    events = [line.removeprefix("data: ") for line in response.text.split("\n\n") if line]
    assert response.headers["content-type"] == "text/event-stream"
    assert events[-1] == "[DONE]"
    usage_chunk = json.loads(events[-2])
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["completion_tokens"] == 5


def test_non_streaming_reply_carries_the_whole_text_and_usage(client):
    reply = client.chat.completions.create(model="m", messages=user("hi"), stream=False)

    assert reply.choices[0].message.content == expected_text(5)
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.completion_tokens == 5


def test_a_directive_in_the_last_user_message_overrides_the_defaults(client):
    reply = client.chat.completions.create(
        model="m", messages=user("hi [fake tokens=3 gap_ms=0]"), stream=False
    )

    assert reply.choices[0].message.content == expected_text(3)


def test_directive_parsing_keeps_defaults_for_what_it_does_not_name():
    request = {
        "messages": [{"role": "user", "content": [{"type": "text", "text": "[fake tokens=7 tool=x]"}]}]
    }

    assert behaviour_for(request, Behaviour()) == Behaviour(tokens=7, tool="x")


def test_tokens_are_due_on_a_fixed_schedule_after_the_first():
    assert list(Behaviour(ttft_ms=50, gap_ms=20, tokens=3).delays()) == pytest.approx([0.05, 0.07, 0.09])


def test_max_tokens_cuts_the_answer_with_finish_reason_length(client):
    chunks = list(client.chat.completions.create(model="m", messages=user("hi"), stream=True, max_tokens=2))

    contents = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert contents == expected_text(2)
    assert chunks[-1].choices[0].finish_reason == "length"


def test_calls_the_offered_tool_first_then_answers_the_tool_result(tool_upstream_url):
    client = openai.OpenAI(base_url=tool_upstream_url, api_key="bench", max_retries=0)
    messages = user("what loans do you have?")

    chunks = list(
        client.chat.completions.create(model="m", messages=messages, tools=[LOAN_TOOL], stream=True)
    )
    call = chunks[0].choices[0].delta.tool_calls[0]
    assert call.function.name == "list_loan_products"
    assert chunks[-1].choices[0].finish_reason == "tool_calls"

    messages += [
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump(exclude={"index"})]},
        {"role": "tool", "tool_call_id": call.id, "content": "Personal loans."},
    ]
    reply = client.chat.completions.create(model="m", messages=messages, tools=[LOAN_TOOL], stream=False)
    assert reply.choices[0].message.content == expected_text(4)


def test_does_not_call_a_tool_the_request_does_not_offer(tool_upstream_url):
    client = openai.OpenAI(base_url=tool_upstream_url, api_key="bench", max_retries=0)

    reply = client.chat.completions.create(model="m", messages=user("hi"), stream=False)

    assert reply.choices[0].message.content == expected_text(4)


# A plain FunctionAgent discovers its steps with inspect.getmembers, which trips pydantic's
# deprecation warnings on every event.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_llamaindex_function_agent_on_openai_like_calls_the_tool_and_streams_the_answer(tool_upstream_url):
    calls = []

    def list_loan_products() -> str:
        """List the bank's loan products."""
        calls.append("list_loan_products")
        return "Personal loans from 7% APR."

    llm = OpenAILike(
        model="fake",
        api_base=tool_upstream_url,
        api_key="bench",
        is_chat_model=True,
        is_function_calling_model=True,
        context_window=32000,
        max_retries=0,
    )
    agent = FunctionAgent(tools=[FunctionTool.from_defaults(list_loan_products)], llm=llm, streaming=True)

    async def run() -> tuple[str, list]:
        handler = agent.run(user_msg="Which loans do you offer?")
        deltas, results = [], []
        async for event in handler.stream_events():
            if isinstance(event, AgentStream):
                deltas.append(event.delta)
            elif isinstance(event, ToolCallResult):
                results.append(event.tool_output.content)
        await handler
        return "".join(deltas), results

    text, results = asyncio.run(run())

    assert calls == ["list_loan_products"]
    assert results == ["Personal loans from 7% APR."]
    assert text == expected_text(4)


def test_lists_its_model(client):
    assert [model.id for model in client.models.list()] == ["fake-upstream"]


def test_unknown_paths_and_bad_json_get_openai_error_envelopes(upstream_url):
    missing = httpx.get(f"{upstream_url}/embeddings")
    invalid = httpx.post(f"{upstream_url}/chat/completions", content=b"{not json")

    assert missing.status_code == 404 and "message" in missing.json()["error"]
    assert invalid.status_code == 400 and "message" in invalid.json()["error"]
