"""Real providers inside a real Fintalk server process, called as Vapi and the SDKs call it."""

import json
import time
from collections.abc import Iterator

import httpx
import openai
import pytest

from agents.answering import APOLOGY
from conversations.models import Turn
from tests.agents.providers.conftest import UPSTREAM_KEY
from tests.agents.providers.fake_openai import MODEL, CrashAfter, Silence, Status
from tests.conftest import ServerProcess

pytestmark = pytest.mark.django_db(transaction=True)


def start(env: dict[str, str]) -> ServerProcess:
    server = ServerProcess(env)
    server.wait_ready()
    return server


def sse_events(url: str, key: str, text: str) -> list:
    """The parsed ``data:`` events of a streamed completion (``[DONE]`` kept as a string)."""
    response = httpx.post(
        f"{url}/v1/chat/completions",
        json={"messages": [{"role": "user", "content": text}], "stream": True},
        headers={"Authorization": f"Bearer {key}", "Accept": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    data = [block.removeprefix("data: ") for block in response.text.split("\n\n") if block]
    return [item if item == "[DONE]" else json.loads(item) for item in data]


def content(events: list) -> str:
    return "".join(
        event["choices"][0]["delta"].get("content") or ""
        for event in events
        if isinstance(event, dict) and event.get("choices")
    )


def logged(**filters) -> Turn:
    """The conversation log, written just after the reply: poll until it is there."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        conversation = Turn.objects.filter(**filters).first()
        if conversation is not None:
            return conversation
        time.sleep(0.02)
    raise AssertionError(f"No conversation logged with {filters}")


@pytest.fixture(scope="module")
def fallback_server(django_db_setup, django_db_blocker, _openai_upstream) -> Iterator[ServerProcess]:
    """Fintalk on the scripted OpenAI-compatible upstream, falling back to the offline model."""
    server = start(
        {
            "LLM_PROVIDER": "openai",
            "LLM_API_ENDPOINT": _openai_upstream.url,
            "LLM_MODEL": MODEL,
            "LLM_API_KEY": UPSTREAM_KEY,
            "LLM_MAX_RETRIES": "0",
            "LLM_FALLBACKS": "offline",
        }
    )
    yield server
    server.stop()


def test_primary_down_the_fallback_answers_the_stream(fallback_server, openai_upstream, trusted_key):
    openai_upstream.app.script.append(Status(503, "Overloaded"))

    events = sse_events(fallback_server.url, trusted_key, "hello")

    assert content(events) and content(events) != APOLOGY
    assert events[-1] == "[DONE]"
    assert not any("error" in event for event in events if isinstance(event, dict))
    conversation = logged(completion_id=events[0]["id"])
    assert (conversation.provider, conversation.answered_by) == ("openai", "offline")
    assert [(f["provider"], f["status"]) for f in conversation.provider_failures] == [("openai", 503)]


def test_primary_dying_mid_stream_ends_with_an_error_event_never_a_spliced_answer(
    fallback_server, openai_upstream, trusted_key
):
    openai_upstream.app.script.append(CrashAfter("Your balance is"))

    events = sse_events(fallback_server.url, trusted_key, "what is my balance")

    assert content(events) == "Your balance is"
    errors = [event for event in events if isinstance(event, dict) and "error" in event]
    assert len(errors) == 1 and errors[0]["choices"] == []
    assert errors[0]["error"]["code"] == "upstream_connection_lost"
    assert events[-1] == "[DONE]" and events[-2] is errors[0]
    conversation = logged(completion_id=events[0]["id"])
    assert conversation.status == Turn.Status.ERROR and conversation.answered_by == "openai"


def test_the_official_client_streams_through_fintalk_to_an_upstream_fintalk(live_server_url, trusted_key, demo_bank):
    """Acceptance: Fintalk (openai provider) in front of a second Fintalk on the offline model."""
    front = start(
        {
            "LLM_PROVIDER": "openai",
            "LLM_API_ENDPOINT": f"{live_server_url}/v1",
            "LLM_API_KEY": trusted_key,
            "LLM_MODEL": "fintalk-offline",
            # The upstream is an agent with the same bank tools: it needs none offered.
            "LLM_TOOL_CALLING": "false",
        }
    )
    try:
        client = openai.OpenAI(base_url=f"{front.url}/v1", api_key=trusted_key, max_retries=0)
        stream = client.chat.completions.create(
            model="fintalk-offline",
            messages=[{"role": "user", "content": "What loan products do you offer?"}],
            stream=True,
        )
        chunks = list(stream)
    finally:
        front.stop()

    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert "loan" in text.lower()
    assert {chunk.model for chunk in chunks} == {"fintalk-offline"}
    conversation = logged(completion_id=chunks[0].id)
    assert conversation.provider == "openai" and conversation.model == "fintalk-offline"
    assert conversation.answered_by == "openai" and conversation.answered_model == "fintalk-offline"
    # The upstream reported its own token counts (stream_options.include_usage).
    assert conversation.usage_estimated is False
    assert Turn.objects.filter(provider="offline").exists()


def test_a_silent_upstream_leaves_the_fallback_time_before_the_first_token_deadline(
    openai_upstream, trusted_key, demo_bank
):
    # LLM_TIMEOUT 30 s × 3 attempts would outlast the 4 s deadline: each attempt gets a share.
    openai_upstream.app.script.extend([Silence(), Silence(), Silence()])
    server = start(
        {
            "LLM_PROVIDER": "openai",
            "LLM_API_ENDPOINT": openai_upstream.url,
            "LLM_MODEL": MODEL,
            "LLM_API_KEY": UPSTREAM_KEY,
            "LLM_TIMEOUT": "30",
            "LLM_MAX_RETRIES": "2",
            "LLM_FALLBACKS": "offline",
            "FINTALK_FIRST_TOKEN_TIMEOUT": "4",
        }
    )
    try:
        events = sse_events(server.url, trusted_key, "What loan options are available?")
    finally:
        server.stop()

    assert events[-1] == "[DONE]"
    assert "Personal Loan" in content(events)  # the offline fallback answered, no 504
    assert logged(answered_by="offline").provider_failures[0]["status"] == 504


def test_the_attempt_timeout_shares_the_first_token_deadline(settings):
    from agents.providers.base import upstream_attempt_timeout

    settings.FIRST_TOKEN_TIMEOUT, settings.LLM_TIMEOUT = 30.0, 30.0
    settings.LLM_MAX_RETRIES, settings.LLM_FALLBACKS = 2, []
    assert upstream_attempt_timeout() == pytest.approx((27 - 1.5) / 3)
    settings.LLM_FALLBACKS = ["offline"]
    assert upstream_attempt_timeout() == pytest.approx((13.5 - 1.5) / 3)
    settings.LLM_TIMEOUT = 2.0
    assert upstream_attempt_timeout() == 2.0  # a shorter LLM_TIMEOUT is kept
