"""Client tools (Vapi's transferCall, endCall…) come back as their JSON Schema says, or not at all."""

import httpx
import openai
import pytest

from tests.chat import Chat
from tests.scripted import Step, call

pytestmark = pytest.mark.django_db(transaction=True)


def tool(name: str, properties: dict | None = None, required: list[str] | None = None) -> dict:
    parameters = {"type": "object", "properties": properties or {}}
    if required:
        parameters["required"] = required
    return {"type": "function", "function": {"name": name, "description": name, "parameters": parameters}}


ONE_DESTINATION = tool("transferCall", {"destination": {"type": "string", "enum": ["+14155550199"]}}, ["destination"])
TWO_DESTINATIONS = tool("transferCall", {"destination": {"type": "string", "enum": ["sales", "support"]}}, ["destination"])
END_CALL = tool("endCall")


@pytest.fixture
def client(live_server_url, trusted_key, demo_bank) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{live_server_url}/v1", api_key=trusted_key, max_retries=0)


def ask(client: openai.OpenAI, text: str, tools: list[dict], **extra):
    return client.chat.completions.create(
        model="fintalk-offline", messages=[{"role": "user", "content": text}], tools=tools, **extra
    ).choices[0]


def test_a_single_value_enum_fills_the_required_argument(client):
    choice = ask(client, "please transfer call to a person", [ONE_DESTINATION])

    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls[0].function.arguments == '{"destination": "+14155550199"}'


def test_the_callers_words_choose_among_the_enum_values(client):
    choice = ask(client, "transfer call to support please", [TWO_DESTINATIONS])

    assert choice.message.tool_calls[0].function.arguments == '{"destination": "support"}'


def test_without_a_value_the_model_asks_instead_of_calling(client):
    choice = ask(client, "please transfer call", [TWO_DESTINATIONS])

    assert choice.finish_reason == "stop" and not choice.message.tool_calls
    assert choice.message.content == "Which destination would you like: sales or support?"


def test_parallel_tool_calls_false_makes_at_most_one_call(client):
    tools = [ONE_DESTINATION, END_CALL]
    both = ask(client, "transfer call and end call", tools)
    one = ask(client, "transfer call and end call", tools, parallel_tool_calls=False)

    assert len(both.message.tool_calls) == 2
    assert len(one.message.tool_calls) == 1


def test_a_named_tool_choice_is_honoured(client):
    choice = ask(
        client, "what loans do you offer?", [ONE_DESTINATION], tool_choice={"type": "function", "function": {"name": "transferCall"}}
    )

    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls[0].function.name == "transferCall"


def test_tool_choice_required_gets_a_tool_call(client):
    choice = ask(client, "hello there", [END_CALL], tool_choice="required")

    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls[0].function.name == "endCall"


def test_goodbye_calls_the_clients_end_call_tool(client):
    choice = ask(client, "thanks, bye", [ONE_DESTINATION, END_CALL])

    assert choice.finish_reason == "tool_calls"
    assert [c.function.name for c in choice.message.tool_calls] == ["endCall"]


def test_a_parameters_schema_that_is_not_json_schema_is_a_400(live_server_url, trusted_key):
    body = {"messages": [{"role": "user", "content": "hi"}], "tools": [tool("f", {"x": {"type": "integr"}})]}

    response = httpx.post(
        f"{live_server_url}/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {trusted_key}"}, timeout=30
    )

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "tools[0].function.parameters"


def test_a_real_models_incomplete_call_is_completed_or_replaced_by_a_question(
    scripted_server_url, scripted_model, trusted_key, demo_bank
):
    scripted_model.then(Step(tool_calls=[call("transferCall")]), Step(tool_calls=[call("transferCall")]))
    filled = Chat(scripted_server_url, trusted_key, model=None, extra={"tools": [ONE_DESTINATION], "stream": False})
    asked = Chat(scripted_server_url, trusted_key, model=None, extra={"tools": [TWO_DESTINATIONS], "stream": False})

    response_filled = httpx.post(
        f"{scripted_server_url}/v1/chat/completions",
        json={**filled.body(), "messages": [{"role": "user", "content": "get me a human"}]},
        headers={"Authorization": f"Bearer {trusted_key}"},
        timeout=30,
    ).json()
    response_asked = httpx.post(
        f"{scripted_server_url}/v1/chat/completions",
        json={**asked.body(), "messages": [{"role": "user", "content": "get me a human"}]},
        headers={"Authorization": f"Bearer {trusted_key}"},
        timeout=30,
    ).json()

    call_back = response_filled["choices"][0]["message"]["tool_calls"][0]["function"]
    assert call_back["arguments"] == '{"destination": "+14155550199"}'
    assert response_asked["choices"][0]["finish_reason"] == "stop"
    assert response_asked["choices"][0]["message"]["content"] == "Which destination would you like: sales or support?"
