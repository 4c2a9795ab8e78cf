"""A model that misbehaves (step limit, unusable output) gets a spoken apology, never a 500."""

import json

import httpx
import pytest

from agents.answering import APOLOGY
from conversations.models import Turn
from tests.chat import logged_turn
from tests.conftest import ServerProcess

pytestmark = pytest.mark.django_db(transaction=True)

LOANS = [{"role": "user", "content": "What loan options are available?"}]


@pytest.fixture(scope="module")
def one_step_server(django_db_setup):
    """The agent may take one step: a question that needs a tool hits the step limit."""
    server = ServerProcess({"AGENT_MAX_ITERATIONS": "1"})
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_the_step_limit_is_an_apology_in_json(one_step_server, trusted_key, demo_bank):
    response = httpx.post(
        f"{one_step_server.url}/v1/chat/completions",
        json={"messages": LOANS},
        headers={"Authorization": f"Bearer {trusted_key}"},
        timeout=30,
    )

    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == APOLOGY
    conversation = logged_turn(response.json()["id"])
    assert conversation.status == Turn.Status.ERROR
    assert "Max iterations" in conversation.error


def test_the_step_limit_is_a_spoken_apology_in_a_stream(one_step_server, trusted_key, demo_bank):
    response = httpx.post(
        f"{one_step_server.url}/api/chat/completions",
        json={"messages": LOANS},
        headers={"Authorization": f"Bearer {trusted_key}"},
        timeout=30,
    )

    events = [part.removeprefix("data: ") for part in response.text.split("\n\n") if part.startswith("data: ")]
    chunks = [json.loads(event) for event in events[:-1]]
    assert events[-1] == "[DONE]"
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]) == APOLOGY
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
