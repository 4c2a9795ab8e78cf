"""The web front end's endpoints: session streams with server-side history, and queries."""

import json

import httpx
import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def events(response: httpx.Response) -> list[dict]:
    return [
        json.loads(part.removeprefix("data: "))
        for part in response.text.split("\n\n")
        if part.startswith("data: ")
    ]


def post(url: str, key: str, path: str, body: dict) -> httpx.Response:
    return httpx.post(f"{url}{path}", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def text_of(stream: list[dict]) -> str:
    return "".join(event.get("content", "") for event in stream)


def test_session_stream_keeps_the_history_between_messages(live_server_url, trusted_key, demo_bank):
    chloe = demo_bank["Chloe Nguyen"]
    session = {"session_id": "web-session-1", "phone_number": chloe["phone"]}

    first = post(live_server_url, trusted_key, "/api/llm/chat/session/stream", {**session, "message": "what's my card balance"})
    second = post(live_server_url, trusted_key, "/api/llm/chat/session/stream", {**session, "message": "the one ending 2222"})

    assert first.headers["content-type"].startswith("text/event-stream")
    first_events, second_events = events(first), events(second)
    assert first_events[-1] == {"done": True, "finish_reason": "stop"}
    assert "1111" in text_of(first_events) and "2222" in text_of(first_events)
    assert "ending 2222" in text_of(second_events)
    assert "ending 1111" not in text_of(second_events)


def test_sessions_are_separate(live_server_url, trusted_key, demo_bank):
    chloe = demo_bank["Chloe Nguyen"]
    post(
        live_server_url,
        trusted_key,
        "/api/llm/chat/session/stream",
        {"session_id": "a", "phone_number": chloe["phone"], "message": "what's my card balance"},
    )

    other = post(
        live_server_url,
        trusted_key,
        "/api/llm/chat/session/stream",
        {"session_id": "b", "phone_number": chloe["phone"], "message": "the one ending 2222"},
    )

    assert "2222" not in text_of(events(other))


def test_stateless_chat_stream_answers_the_conversation(live_server_url, trusted_key, demo_bank):
    response = post(
        live_server_url,
        trusted_key,
        "/api/llm/chat/stream",
        {"messages": [{"role": "user", "content": "What loan options are available?"}]},
    )

    stream = events(response)
    assert len([e for e in stream if "content" in e]) >= 3
    assert "Personal Loan" in text_of(stream)
    assert stream[-1]["done"] is True


def test_agent_query_answers_in_one_json_reply(live_server_url, trusted_key, demo_bank):
    ben = demo_bank["Ben Carter"]

    response = post(
        live_server_url,
        trusted_key,
        "/api/agent/query/",
        {"query": "how much do I owe on my credit card", "phone_number": ben["phone"]},
    )

    body = response.json()
    assert response.status_code == 200
    assert f"{float(ben['cards'][0]['current_balance']):,.2f}" in body["response"]
    assert body["finish_reason"] == "stop"
    assert body["usage"]["total_tokens"] > 0


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/api/llm/chat/session/stream", {"message": "hi"}, "session_id"),
        ("/api/llm/chat/session/stream", {"session_id": "bad id!", "message": "hi"}, "session_id"),
        ("/api/llm/chat/stream", {"messages": []}, "messages"),
        ("/api/agent/query/", {}, "query"),
    ],
)
def test_front_end_endpoints_reject_bad_input_in_the_envelope(live_server_url, trusted_key, path, body, param):
    response = post(live_server_url, trusted_key, path, body)

    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


def test_session_stream_reports_each_bank_tool_while_it_runs(live_server_url, trusted_key, demo_bank):
    reply = post(
        live_server_url,
        trusted_key,
        "/api/llm/chat/session/stream",
        {"session_id": "tools-1", "message": "What loan options are available?"},
    )

    stream = events(reply)
    tool_events = [event["tool"] for event in stream if "tool" in event]
    first_content = next(i for i, event in enumerate(stream) if "content" in event)
    started = next(i for i, event in enumerate(stream) if event.get("tool", {}).get("status") == "started")
    assert started < first_content
    assert [(t["name"], t["status"]) for t in tool_events] == [
        ("list_loan_products", "started"),
        ("list_loan_products", "finished"),
    ]
    assert tool_events[0]["id"] == tool_events[1]["id"] and tool_events[1]["ok"] is True
    assert set(tool_events[1]) == {"id", "name", "status", "ok"}  # never arguments or results


def test_openai_stream_carries_no_tool_activity(live_server_url, trusted_key, demo_bank):
    reply = httpx.post(
        f"{live_server_url}/v1/chat/completions",
        json={"stream": True, "messages": [{"role": "user", "content": "What loan options are available?"}]},
        headers={"Authorization": f"Bearer {trusted_key}"},
        timeout=30,
    )

    chunks = [json.loads(part.removeprefix("data: ")) for part in reply.text.split("\n\n") if part.startswith("data: {")]
    assert chunks and all("tool" not in chunk and "choices" in chunk for chunk in chunks)
