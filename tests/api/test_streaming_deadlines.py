"""Keep-alives and deadlines on a real server whose model is slow."""

import json

import httpx
import openai
import pytest

from conversations.models import Turn
from tests.chat import logged_turn
from tests.conftest import ServerProcess

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def paced_server_url(django_db_setup):
    server = ServerProcess(
        {
            "LLM_OFFLINE_DELAY_MS": "150",
            "FINTALK_SSE_KEEPALIVE_SECONDS": "0.05",
            "FINTALK_REQUEST_TIMEOUT": "3",
        }
    )
    try:
        server.wait_ready()
        yield server.url
    finally:
        server.stop()


def test_keepalive_comments_flow_while_the_model_is_silent_and_clients_ignore_them(
    paced_server_url, trusted_key
):
    raw = httpx.post(
        f"{paced_server_url}/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "thanks"}], "stream": True},
        headers={"Authorization": f"Bearer {trusted_key}"},
        timeout=30,
    )
    client = openai.OpenAI(base_url=f"{paced_server_url}/v1", api_key=trusted_key, max_retries=0)
    chunks = list(
        client.chat.completions.create(
            model="fintalk-offline", messages=[{"role": "user", "content": "thanks"}], stream=True
        )
    )

    assert ": keep-alive\n\n" in raw.text
    assert raw.text.endswith("data: [DONE]\n\n")
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "You're welcome. Is there anything else I can help you with?"
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_an_answer_past_the_deadline_ends_with_an_error_event(paced_server_url, trusted_key, demo_bank):
    response = httpx.post(
        f"{paced_server_url}/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "What loan options are available?"}], "stream": True},
        headers={"Authorization": f"Bearer {trusted_key}"},
        timeout=30,
    )

    events = [part.removeprefix("data: ") for part in response.text.split("\n\n") if part.startswith("data: ")]
    assert events[-1] == "[DONE]"
    error = json.loads(events[-2])
    assert error["error"]["code"] == "upstream_timeout"
    assert error["choices"] == []
    assert any('"content":"We"' in event for event in events)
    conversation = logged_turn(json.loads(events[0])["id"])
    assert conversation.status == Turn.Status.ERROR  # a deadline, not a hang-up
    assert "took longer than 3 s" in conversation.error


def test_a_non_streaming_answer_past_the_deadline_is_a_504(paced_server_url, trusted_key, demo_bank):
    response = httpx.post(
        f"{paced_server_url}/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "What loan options are available?"}], "stream": False},
        headers={"Authorization": f"Bearer {trusted_key}"},
        timeout=30,
    )

    assert response.status_code == 504
    assert response.json()["error"]["code"] == "upstream_timeout"
