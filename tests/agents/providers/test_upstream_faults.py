"""A broken upstream behind a real server: never reported as a good answer."""

import json

import httpx
import pytest

from conversations.models import Turn
from tests.agents.providers.conftest import UPSTREAM_KEY
from tests.agents.providers.fake_openai import MODEL, Reply, Respond, Status
from tests.agents.providers.test_openai_llm import delta, raw_upstream, sse  # noqa: F401 - a fixture
from tests.chat import logged_turn, logged_turns
from tests.conftest import ServerProcess

pytestmark = pytest.mark.django_db(transaction=True)

BALANCE = [{"role": "user", "content": "what loans do you offer?"}]


@pytest.fixture
def fintalk_on():
    servers: list[ServerProcess] = []

    def start(endpoint: str) -> ServerProcess:
        server = ServerProcess(
            {
                "LLM_PROVIDER": "openai",
                "LLM_API_ENDPOINT": endpoint,
                "LLM_MODEL": MODEL,
                "LLM_API_KEY": UPSTREAM_KEY,
                "LLM_MAX_RETRIES": "0",
                "LLM_FALLBACKS": "",
            }
        )
        servers.append(server)
        server.wait_ready()
        return server

    yield start
    for server in servers:
        server.stop()


def _post(server: ServerProcess, key: str, stream: bool, conversation_id: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"}
    if conversation_id is not None:
        headers["X-Conversation-Id"] = conversation_id
    return httpx.post(
        f"{server.url}/v1/chat/completions",
        json={"messages": BALANCE, "stream": stream},
        headers=headers,
        timeout=30,
    )


def _events(response: httpx.Response) -> list:
    data = [part.removeprefix("data: ") for part in response.text.split("\n\n") if part.startswith("data: ")]
    return [item if item == "[DONE]" else json.loads(item) for item in data]


def test_a_stream_that_ends_without_finish_reason_is_an_error_event(raw_upstream, fintalk_on, trusted_key, demo_bank):
    server = fintalk_on(raw_upstream(sse(delta("Your balance"), delta(" is"), done=False)).url)

    events = _events(_post(server, trusted_key, stream=True))

    assert events[-1] == "[DONE]"
    assert events[-2]["error"]["type"] == "upstream_error" and events[-2]["choices"] == []
    assert not [e for e in events[:-1] if e["choices"] and e["choices"][0]["finish_reason"] == "stop"]
    conversation = logged_turn(events[0]["id"])
    assert conversation.status == Turn.Status.ERROR


def test_a_truncated_upstream_is_a_502_without_streaming(raw_upstream, fintalk_on, trusted_key, demo_bank):
    server = fintalk_on(raw_upstream(sse(delta("Your balance"), delta(" is"), done=False)).url)

    response = _post(server, trusted_key, stream=False)

    assert response.status_code == 502, response.text
    assert response.json()["error"]["type"] == "upstream_error"


def test_tool_arguments_cut_mid_json_never_run_the_tool(raw_upstream, fintalk_on, trusted_key, demo_bank):
    cut = {"index": 0, "id": "c1", "type": "function", "function": {"name": "list_loan_products", "arguments": '{"pro'}}
    server = fintalk_on(raw_upstream(sse(delta(calls=[cut]), delta(finish="tool_calls"))).url)

    response = _post(server, trusted_key, stream=False, conversation_id="cut-tool-arguments")

    assert response.status_code == 502, response.text
    [turn] = logged_turns("cut-tool-arguments", 1)  # a 502 names no completion id to wait on
    assert turn.status == Turn.Status.ERROR
    assert turn.tool_calls.count() == 0


def test_an_upstream_refusing_stream_options_is_asked_again_without_them_and_health_says_so(
    openai_upstream, fintalk_on, trusted_key, demo_bank
):
    refused = Status(400, "Unrecognized request argument supplied: stream_options")
    openai_upstream.app.default = Respond(lambda request: refused if "stream_options" in request else Reply("Hello there."))
    server = fintalk_on(openai_upstream.url)

    first = _post(server, trusted_key, stream=True)
    second = _post(server, trusted_key, stream=False)
    health = httpx.get(f"{server.url}/api/llm/health", timeout=30).json()

    words = [e["choices"][0]["delta"].get("content") or "" for e in _events(first)[:-1] if e["choices"]]
    assert first.status_code == 200 and "".join(words) == "Hello there."
    assert second.status_code == 200 and second.json()["choices"][0]["message"]["content"] == "Hello there."
    sent = [request for _, request in openai_upstream.app.requests if request.get("stream")]
    assert "stream_options" in sent[0] and "stream_options" not in sent[-1]  # remembered
    assert any("stream_options" in note for note in health["llm_service"]["notes"])
