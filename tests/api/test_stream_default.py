"""``stream`` absent or null: JSON on /v1/ (OpenAI's default), SSE on /api/ (Vapi's setups)."""

import json

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletion

pytestmark = pytest.mark.django_db(transaction=True)

LOAN_QUESTION = [{"role": "user", "content": "What loan options are available?"}]


def _post(url: str, key: str, path: str, body: dict) -> httpx.Response:
    return httpx.post(f"{url}{path}", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def _data_events(response: httpx.Response) -> list[str]:
    return [part.removeprefix("data: ") for part in response.text.split("\n\n") if part.startswith("data: ")]


def test_a_plain_sdk_call_on_v1_gets_one_chat_completion(live_server_url, trusted_key, demo_bank):
    client = openai.OpenAI(base_url=f"{live_server_url}/v1", api_key=trusted_key, max_retries=0)

    completion = client.chat.completions.create(model="fintalk-offline", messages=LOAN_QUESTION)

    assert isinstance(completion, ChatCompletion)
    assert completion.object == "chat.completion"
    assert "Personal Loan" in completion.choices[0].message.content
    assert completion.usage.total_tokens > 0


@pytest.mark.parametrize("body", [{}, {"stream": None}], ids=["absent", "null"])
def test_v1_answers_json_when_stream_is_not_given(live_server_url, trusted_key, demo_bank, body):
    response = _post(live_server_url, trusted_key, "/v1/chat/completions", {"messages": LOAN_QUESTION, **body})

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["object"] == "chat.completion"


@pytest.mark.parametrize("body", [{}, {"stream": None}], ids=["absent", "null"])
def test_api_streams_when_stream_is_not_given(live_server_url, trusted_key, demo_bank, body):
    response = _post(live_server_url, trusted_key, "/api/chat/completions", {"messages": LOAN_QUESTION, **body})

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _data_events(response)
    assert events[-1] == "[DONE]"
    assert json.loads(events[0])["object"] == "chat.completion.chunk"


@pytest.mark.parametrize("path", ["/v1", "/api"])
def test_the_sdk_streams_on_both_paths(live_server_url, trusted_key, demo_bank, path):
    client = openai.OpenAI(base_url=f"{live_server_url}{path}", api_key=trusted_key, max_retries=0)

    chunks = list(client.chat.completions.create(model="fintalk-offline", messages=LOAN_QUESTION, stream=True))

    assert "Auto Loan" in "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[-1].choices[0].finish_reason == "stop"


@pytest.mark.parametrize("path", ["/v1", "/api"])
def test_stream_false_gets_json_on_both_paths(live_server_url, trusted_key, demo_bank, path):
    client = openai.OpenAI(base_url=f"{live_server_url}{path}", api_key=trusted_key, max_retries=0)

    completion = client.chat.completions.create(model="fintalk-offline", messages=LOAN_QUESTION, stream=False)

    assert completion.choices[0].finish_reason == "stop"


def test_stream_given_as_a_string_is_a_400_naming_stream(live_server_url, trusted_key):
    response = _post(live_server_url, trusted_key, "/v1/chat/completions", {"messages": LOAN_QUESTION, "stream": "yes"})

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "stream"


def test_with_include_usage_every_chunk_but_the_last_has_usage_null(live_server_url, trusted_key, demo_bank):
    body = {"messages": LOAN_QUESTION, "stream": True, "stream_options": {"include_usage": True}}

    chunks = [json.loads(event) for event in _data_events(_post(live_server_url, trusted_key, "/v1/chat/completions", body))[:-1]]

    assert all("usage" in chunk and chunk["usage"] is None for chunk in chunks[:-1])
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0


def test_without_include_usage_chunks_carry_no_usage(live_server_url, trusted_key, demo_bank):
    body = {"messages": LOAN_QUESTION, "stream": True}

    chunks = [json.loads(event) for event in _data_events(_post(live_server_url, trusted_key, "/v1/chat/completions", body))[:-1]]

    assert all("usage" not in chunk for chunk in chunks)


def test_a_vapi_system_only_conversation_streams_a_greeting(live_server_url, trusted_key, demo_bank):
    body = {
        "model": "fintalk-offline",
        "messages": [{"role": "system", "content": "You are Jane, the bank's friendly voice assistant."}],
        "stream": True,
        "call": {"id": "call-first-message", "type": "inboundPhoneCall"},
    }

    response = _post(live_server_url, trusted_key, "/api/chat/completions", body)

    assert response.status_code == 200, response.text
    chunks = [json.loads(event) for event in _data_events(response)[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text.startswith("Hello!") and "help" in text
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_the_sdk_gets_a_greeting_for_a_system_only_conversation(live_server_url, trusted_key, demo_bank):
    client = openai.OpenAI(base_url=f"{live_server_url}/v1", api_key=trusted_key, max_retries=0)

    completion = client.chat.completions.create(
        model="fintalk-offline", messages=[{"role": "system", "content": "Greet the caller."}]
    )

    assert completion.choices[0].message.content.startswith("Hello!")
