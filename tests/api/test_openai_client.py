"""The official ``openai`` client, sync and async, against a real gunicorn server."""

import asyncio

import openai
import pytest

pytestmark = pytest.mark.django_db(transaction=True)

LOAN_QUESTION = [{"role": "user", "content": "What loan options are available?"}]


@pytest.fixture
def client(live_server_url, trusted_key, demo_bank) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{live_server_url}/v1", api_key=trusted_key, max_retries=0)


def test_models_lists_the_configured_model(client):
    models = client.models.list()

    assert [model.id for model in models.data] == ["fintalk-offline"]


def test_non_streaming_completion_has_consistent_usage(client):
    completion = client.chat.completions.create(
        model="fintalk-offline", messages=LOAN_QUESTION, stream=False
    )

    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.choices[0].message.role == "assistant"
    assert "Personal Loan" in completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    usage = completion.usage
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_streamed_completion_is_well_formed(client):
    chunks = list(
        client.chat.completions.create(model="fintalk-offline", messages=LOAN_QUESTION, stream=True)
    )

    assert len({chunk.id for chunk in chunks}) == 1
    assert len({chunk.created for chunk in chunks}) == 1
    assert {chunk.model for chunk in chunks} == {"fintalk-offline"}
    assert chunks[0].choices[0].delta.role == "assistant"
    contents = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(contents) >= 3
    assert "Auto Loan" in "".join(contents)
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])


def test_include_usage_adds_a_usage_chunk(client):
    chunks = list(
        client.chat.completions.create(
            model="fintalk-offline",
            messages=LOAN_QUESTION,
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    last = chunks[-1]
    assert last.choices == []
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    assert last.usage.completion_tokens > 10
    assert chunks[-2].choices[0].finish_reason == "stop"


def test_max_tokens_cuts_the_answer_with_finish_reason_length(client):
    completion = client.chat.completions.create(
        model="fintalk-offline", messages=LOAN_QUESTION, stream=False, max_tokens=5
    )

    assert completion.choices[0].finish_reason == "length"
    assert completion.usage.completion_tokens == 5


def test_stop_sequence_ends_the_answer_before_it(client):
    completion = client.chat.completions.create(
        model="fintalk-offline", messages=LOAN_QUESTION, stream=False, stop=["APR"]
    )

    content = completion.choices[0].message.content
    assert "APR" not in content
    assert content.startswith("We offer")
    assert completion.choices[0].finish_reason == "stop"


def test_async_client_streams(live_server_url, trusted_key, demo_bank):
    async def main() -> list[str]:
        async with openai.AsyncOpenAI(
            base_url=f"{live_server_url}/api", api_key=trusted_key, max_retries=0
        ) as client:
            stream = await client.chat.completions.create(
                model="fintalk-offline", messages=LOAN_QUESTION, stream=True
            )
            return [c.choices[0].delta.content async for c in stream if c.choices and c.choices[0].delta.content]

    contents = asyncio.run(main())

    assert len(contents) >= 3
    assert "Mortgage" in "".join(contents)


def test_unknown_model_is_a_404(client):
    with pytest.raises(openai.NotFoundError) as raised:
        client.chat.completions.create(model="gpt-nonexistent", messages=LOAN_QUESTION)

    assert raised.value.code == "model_not_found"


def test_client_tools_are_handed_back_with_finish_reason_tool_calls(client):
    tools = [
        {
            "type": "function",
            "function": {
                "name": "transferCall",
                "description": "Transfer the caller to a human agent.",
                "parameters": {"type": "object", "properties": {}},
            },
        }
    ]
    completion = client.chat.completions.create(
        model="fintalk-offline",
        messages=[{"role": "user", "content": "Please transfer call to a person"}],
        tools=tools,
        stream=False,
    )

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls[0].function.name == "transferCall"
