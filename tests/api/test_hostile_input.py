"""Inputs a fuzzer or a mis-configured client sends: each a clear 4xx in the OpenAI envelope."""

import asyncio

import httpx
import openai
import pytest
from websockets.asyncio.client import connect as websocket_connect
from websockets.exceptions import InvalidStatus

from api.parsers import json_depth
from tests.chat import logged_turn

pytestmark = pytest.mark.django_db(transaction=True)

HELLO = '[{"role": "user", "content": "hello"}]'


def _post(url: str, key: str, content: bytes, path: str = "/v1/chat/completions") -> httpx.Response:
    return httpx.post(
        f"{url}{path}",
        content=content,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        timeout=30,
    )


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"1", 0),
        (b"[]", 1),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'{"a": "[[[[[[", "b": {"c": "\\"]]]"}}', 2),
        (b"[" * 1000 + b"]" * 1000, 1000),
    ],
)
def test_json_depth_counts_brackets_outside_strings(body, depth):
    assert json_depth(body) == depth


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 30_000 + b"1" + b"}" * 30_000,
        f'{{"messages": {HELLO}, "metadata": '.encode() + b"[" * 100_000 + b"]" * 100_000 + b"}",
        f'{{"messages": {HELLO}, "call": '.encode() + b'{"a":' * 30_000 + b"1" + b"}" * 30_001,
    ],
    ids=["arrays", "objects", "arrays-in-an-ignored-field", "objects-in-a-known-field"],
)
def test_deeply_nested_json_is_a_400_naming_the_limit(live_server_url, trusted_key, body):
    response = _post(live_server_url, trusted_key, body)

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "json_too_deep"
    assert "FINTALK_MAX_JSON_DEPTH" in error["message"] and "64" in error["message"]


def test_nesting_within_the_limit_in_an_ignored_field_is_answered(live_server_url, trusted_key, demo_bank):
    body = f'{{"messages": {HELLO}, "stream": false, "metadata": '.encode() + b"[" * 60 + b"]" * 60 + b"}"

    response = _post(live_server_url, trusted_key, body)

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "path",
    ["//v1/chat/completions", "/chat/completions", "/v2/chat/completions", "/api/v1/chat/completions", "/nothing"],
)
def test_unknown_paths_are_a_json_404_naming_the_base_urls(live_server_url, trusted_key, path):
    response = _post(live_server_url, trusted_key, f'{{"messages": {HELLO}}}'.encode(), path=path)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert "/v1" in error["message"] and "/api" in error["message"]


def test_the_admin_keeps_its_html_404(live_server_url):
    response = httpx.get(f"{live_server_url}/admin/no-such-page/", timeout=30, follow_redirects=True)

    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/", "/ws"])
def test_a_websocket_handshake_is_refused_without_a_server_error(live_server_url, path):
    async def connect():
        async with websocket_connect(f"ws://127.0.0.1:{live_server_url.rsplit(':', 1)[1]}{path}"):
            pass

    with pytest.raises(InvalidStatus) as refused:
        asyncio.run(connect())

    response = refused.value.response
    assert response.status_code == 404
    assert b"websocket_not_supported" in response.body


@pytest.mark.parametrize("base", ["/v1", "/api"])
def test_a_model_can_be_retrieved(live_server_url, trusted_key, base):
    client = openai.OpenAI(base_url=f"{live_server_url}{base}", api_key=trusted_key, max_retries=0)

    model = client.models.retrieve("fintalk-offline")

    assert model.id == "fintalk-offline" and model.object == "model"


def test_an_unknown_model_cannot_be_retrieved(live_server_url, trusted_key):
    client = openai.OpenAI(base_url=f"{live_server_url}/v1", api_key=trusted_key, max_retries=0)

    with pytest.raises(openai.NotFoundError) as raised:
        client.models.retrieve("gpt-nonexistent")

    assert raised.value.code == "model_not_found"


@pytest.mark.parametrize(
    ("content", "cleaned"),
    [
        (b'"lone \\ud800 surrogate"', "lone \ufffd surrogate"),
        (b'"nul \\u0000 inside"', "nul  inside"),
        (b'[{"type": "text", "text": "\\udfff\\u0000"}]', "\ufffd"),
    ],
    ids=["lone-surrogate", "nul", "both-in-a-part"],
)
def test_text_the_database_cannot_take_is_cleaned_answered_and_logged(
    live_server_url, trusted_key, demo_bank, content, cleaned
):
    body = b'{"stream": false, "user": "u\\ud800", "messages": [{"role": "user", "content": ' + content + b"}]}"

    response = _post(live_server_url, trusted_key, body)

    assert response.status_code == 200, response.text
    conversation = logged_turn(response.json()["id"])
    assert conversation.messages.filter(is_answer=False).last().content == cleaned


@pytest.mark.parametrize("stream", [False, True])
def test_a_large_request_is_answered_and_logged(live_server_url, trusted_key, demo_bank, stream):
    # Over fintalk.text.OFF_LOOP_THRESHOLD: parsed, checked, masked and counted off the loop.
    filler = [{"role": "user", "content": "x" * 30_000}, {"role": "assistant", "content": "ok"}] * 4
    body = {"messages": [*filler, {"role": "user", "content": "what loans do you offer?"}], "stream": stream}

    response = httpx.post(
        f"{live_server_url}/v1/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {trusted_key}"},
        timeout=60,
    )

    assert response.status_code == 200, response.text
    completion_id = response.json()["id"] if not stream else response.text.split('"id":"', 1)[1].split('"', 1)[0]
    conversation = logged_turn(completion_id)
    assert conversation.prompt_tokens > 10_000  # 120,000 x-es: ~15,000 tokens
    assert "Personal Loan" in conversation.messages.get(is_answer=True).content
