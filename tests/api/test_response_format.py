"""response_format: honoured where the model can (and checked), else a 400 naming it."""

import json

import httpx
import pytest

from tests.scripted import Step

pytestmark = pytest.mark.django_db(transaction=True)

HELLO = [{"role": "user", "content": "hello"}]
SCHEMA = {
    "type": "json_schema",
    "json_schema": {
        "name": "greeting",
        "schema": {"type": "object", "properties": {"words": {"type": "string"}}, "required": ["words"]},
    },
}


def post(url: str, key: str, body: dict) -> httpx.Response:
    return httpx.post(f"{url}/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)


@pytest.mark.parametrize("response_format", [{"type": "json_object"}, SCHEMA])
def test_the_offline_model_refuses_json_formats_with_a_400(live_server_url, trusted_key, response_format):
    response = post(live_server_url, trusted_key, {"messages": HELLO, "response_format": response_format})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "response_format" and error["code"] == "unsupported_response_format"


@pytest.mark.parametrize(
    ("response_format", "param"),
    [({"type": "yaml"}, "response_format.type"), ({"type": "json_schema"}, "response_format.json_schema"), ("json", "response_format")],
)
def test_unknown_or_incomplete_formats_are_a_400(live_server_url, trusted_key, response_format, param):
    response = post(live_server_url, trusted_key, {"messages": HELLO, "response_format": response_format})

    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


def test_plain_text_is_always_fine(live_server_url, trusted_key, demo_bank):
    response = post(live_server_url, trusted_key, {"messages": HELLO, "response_format": {"type": "text"}})

    assert response.status_code == 200


def test_an_openai_upstream_gets_the_format_and_its_json_answer_passes(scripted_server_url, scripted_model, trusted_key, demo_bank):
    scripted_model.then(Step('{"words": "hello there"}'))

    response = post(scripted_server_url, trusted_key, {"messages": HELLO, "response_format": SCHEMA})

    assert response.status_code == 200, response.text
    assert json.loads(response.json()["choices"][0]["message"]["content"]) == {"words": "hello there"}
    assert scripted_model.requests[-1]["response_format"]["json_schema"]["name"] == "greeting"


@pytest.mark.parametrize("answer", ["Hello! How can I help?", '{"other": 1}', "[1, 2]"])
def test_an_answer_that_ignores_the_format_is_a_502(scripted_server_url, scripted_model, trusted_key, demo_bank, answer):
    scripted_model.then(Step(answer))

    response = post(scripted_server_url, trusted_key, {"messages": HELLO, "response_format": SCHEMA})

    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "invalid_model_output"


def test_a_streamed_answer_that_ignores_json_object_ends_with_an_error_event(
    scripted_server_url, scripted_model, trusted_key, demo_bank
):
    scripted_model.then(Step("Not JSON at all."))

    response = post(
        scripted_server_url, trusted_key, {"messages": HELLO, "stream": True, "response_format": {"type": "json_object"}}
    )

    events = [part.removeprefix("data: ") for part in response.text.split("\n\n") if part.startswith("data: ")]
    assert events[-1] == "[DONE]"
    assert json.loads(events[-2])["error"]["code"] == "invalid_model_output"
