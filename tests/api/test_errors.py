"""Every failure leaves as the OpenAI error envelope with the right status; never a 500."""

import httpx
import pytest

from api.keys import api_key_revoke
from api.models import ApiKey

pytestmark = pytest.mark.django_db(transaction=True)

GOOD_MESSAGES = [{"role": "user", "content": "hello"}]


def post(url: str, key: str | None, body, *, path: str = "/v1/chat/completions", **kwargs) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    content = body if isinstance(body, (str, bytes)) else httpx.Request("POST", "/", json=body).content
    return httpx.post(f"{url}{path}", content=content, headers=headers, timeout=30, **kwargs)


def assert_envelope(response: httpx.Response, status: int, *, type: str | None = None, param=..., code=...):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    if type is not None:
        assert error["type"] == type
    if param is not ...:
        assert error["param"] == param
    if code is not ...:
        assert error["code"] == code
    return error


def test_an_assistant_refusal_part_is_accepted(live_server_url, trusted_key):
    messages = [
        {"role": "user", "content": "tell me a secret"},
        {"role": "assistant", "content": [{"type": "refusal", "refusal": "I can't help with that."}]},
        {"role": "assistant", "content": None, "refusal": "I can't help with that."},
        {"role": "user", "content": "ok, what loans do you offer?"},
    ]

    response = post(live_server_url, trusted_key, {"messages": messages, "stream": False})

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "messages"),
        ({"messages": []}, "messages"),
        ({"messages": GOOD_MESSAGES, "n": 2}, "n"),
        ({"messages": [{"role": "wizard", "content": "hi"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]}, "messages[0].content"),
        ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]}, "messages[0].content"),
        ({"messages": [{"role": "user", "content": 42}]}, "messages[0].content"),
        ({"messages": [{"role": "user"}]}, "messages[0].content"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].tool_call_id"),
        ({"messages": GOOD_MESSAGES, "temperature": 3}, "temperature"),
        ({"messages": GOOD_MESSAGES, "max_tokens": 0}, "max_tokens"),
        ({"messages": GOOD_MESSAGES, "stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"messages": GOOD_MESSAGES, "tool_choice": "sometimes"}, "tool_choice"),
        ({"messages": "hello"}, "messages"),
        ({"messages": GOOD_MESSAGES, "phone_number": "not a number"}, "phone_number"),
        # JSON types are checked, never coerced (each of these was a 500 or a silent guess).
        ({"messages": GOOD_MESSAGES, "phone_number": 14155550101}, "phone_number"),
        ({"messages": GOOD_MESSAGES, "tools": [{"type": "function", "function": {"name": "transferCall"}}], "tool_choice": {"type": "function", "function": "transferCall"}}, "tool_choice"),
        ({"messages": GOOD_MESSAGES, "tool_choice": ["auto"]}, "tool_choice"),
        ({"messages": GOOD_MESSAGES, "stream": "true"}, "stream"),
        ({"messages": GOOD_MESSAGES, "stream_options": {"include_usage": "yes"}}, "stream_options.include_usage"),
        ({"messages": GOOD_MESSAGES, "temperature": "0.5"}, "temperature"),
        ({"messages": GOOD_MESSAGES, "max_tokens": 10.5}, "max_tokens"),
        ({"messages": GOOD_MESSAGES, "user": 42}, "user"),
        ({"messages": GOOD_MESSAGES, "model": 7}, "model"),
        ({"messages": [{"role": "user", "content": "hi", "name": ["x"]}]}, "messages[0].name"),
        ({"messages": GOOD_MESSAGES, "customer": "+14155550101"}, "customer"),
        ({"messages": GOOD_MESSAGES, "tools": [{"type": "function", "function": {"name": "f", "parameters": []}}]}, "tools[0].function.parameters"),
    ],
)
def test_invalid_requests_are_400_with_the_offending_param(live_server_url, trusted_key, body, param):
    response = post(live_server_url, trusted_key, body)

    assert_envelope(response, 400, type="invalid_request_error", param=param)


def test_invalid_json_is_a_400(live_server_url, trusted_key):
    response = post(live_server_url, trusted_key, '{"messages": [')

    assert_envelope(response, 400, type="invalid_request_error", code="invalid_json")


def test_a_json_array_body_is_a_400(live_server_url, trusted_key):
    assert_envelope(post(live_server_url, trusted_key, "[1, 2]"), 400, type="invalid_request_error")


def test_an_empty_body_is_a_400(live_server_url, trusted_key):
    assert_envelope(post(live_server_url, trusted_key, ""), 400, type="invalid_request_error")


def test_missing_api_key_is_a_401(live_server_url, transactional_db):
    response = post(live_server_url, None, {"messages": GOOD_MESSAGES})

    assert_envelope(response, 401, type="authentication_error", code="invalid_api_key")


def test_wrong_api_key_is_a_401(live_server_url, trusted_key):
    response = post(live_server_url, trusted_key + "x", {"messages": GOOD_MESSAGES})

    assert_envelope(response, 401, type="authentication_error")


def test_revoked_api_key_is_a_401(live_server_url, trusted_key):
    api_key_revoke(key=ApiKey.objects.get(name="vapi-gateway"))

    response = post(live_server_url, trusted_key, {"messages": GOOD_MESSAGES})

    assert_envelope(response, 401, type="authentication_error")


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/api/chat/completions/"])
def test_get_on_the_completions_path_is_a_405(live_server_url, trusted_key, path):
    response = httpx.get(f"{live_server_url}{path}", headers={"Authorization": f"Bearer {trusted_key}"})

    assert_envelope(response, 405, code="method_not_allowed")


@pytest.mark.parametrize("path", ["/v1/embeddings", "/api/nothing/here", "/v1/"])
def test_unknown_api_paths_are_a_404_envelope(live_server_url, transactional_db, path):
    assert_envelope(httpx.get(f"{live_server_url}{path}"), 404)
    assert_envelope(httpx.post(f"{live_server_url}{path}", json={}), 404)


def test_a_body_over_the_limit_is_a_413(live_server_url, trusted_key):
    huge = {"messages": [{"role": "user", "content": "x" * 1_100_000}]}

    assert_envelope(post(live_server_url, trusted_key, huge), 413, code="request_too_large")


def test_unknown_fields_are_ignored(live_server_url, trusted_key, demo_bank):
    body = {
        "messages": GOOD_MESSAGES,
        "stream": False,
        "customer": {"number": "+14155550101", "name": "Ana"},
        "call": {"callId": "legacy-1"},
        "phoneNumber": {"id": "pn"},
        "metadata": {"anything": [1, 2]},
        "frequency_penalty": 0.5,
        "some_future_field": {"x": 1},
    }

    response = post(live_server_url, trusted_key, body)

    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"]


@pytest.mark.parametrize("accept", ["application/json", "text/event-stream", "text/html", "*/*"])
def test_accept_header_never_changes_the_reply(live_server_url, trusted_key, accept):
    response = httpx.post(
        f"{live_server_url}/v1/chat/completions",
        json={"messages": GOOD_MESSAGES, "stream": True},
        headers={"Authorization": f"Bearer {trusted_key}", "Accept": accept},
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
