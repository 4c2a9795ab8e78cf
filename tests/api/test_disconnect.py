"""A caller who hangs up stops the upstream model: no more tokens are paid for."""

import asyncio
import json
import time

import httpx
import pytest

from bench.fake_upstream import serve_asgi_in_thread
from conversations.models import Turn
from tests.chat import logged_turn
from tests.conftest import ServerProcess

pytestmark = pytest.mark.django_db(transaction=True)


class SlowUpstream:
    """An OpenAI-compatible upstream that streams a word every 50 ms until told to stop,
    and records when its caller (Fintalk) went away."""

    def __init__(self) -> None:
        self.disconnected_at: float | None = None
        self.tokens_sent = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        if scope["path"].endswith("/models"):
            body = json.dumps({"object": "list", "data": [{"id": "slow", "object": "model"}]}).encode()
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        while (await receive()).get("more_body"):
            pass
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]}
        )
        gone = asyncio.ensure_future(receive())  # resolves with http.disconnect
        for index in range(400):
            chunk = {
                "id": "chatcmpl-slow",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": "slow",
                "choices": [{"index": 0, "delta": {"content": f" word{index}"}, "finish_reason": None}],
            }
            await send({"type": "http.response.body", "body": f"data: {json.dumps(chunk)}\n\n".encode(), "more_body": True})
            self.tokens_sent += 1
            done, _ = await asyncio.wait({gone}, timeout=0.05)
            if done:
                self.disconnected_at = time.monotonic()
                return
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})


@pytest.fixture
def slow_upstream():
    app = SlowUpstream()
    for url in serve_asgi_in_thread(app):
        yield app, url


def test_hanging_up_stops_reading_the_upstream(slow_upstream, trusted_key):
    upstream, endpoint = slow_upstream
    fintalk = ServerProcess(
        {
            "LLM_PROVIDER": "openai",
            "LLM_API_ENDPOINT": endpoint,
            "LLM_MODEL": "slow",
            "LLM_TOOL_CALLING": "false",
        }
    )
    try:
        fintalk.wait_ready()
        with httpx.stream(
            "POST",
            f"{fintalk.url}/v1/chat/completions",
            json={"model": "slow", "messages": [{"role": "user", "content": "tell me everything"}], "stream": True},
            headers={"Authorization": f"Bearer {trusted_key}"},
            timeout=30,
        ) as response:
            lines = response.iter_lines()
            completion_id = json.loads(next(lines).removeprefix("data: "))["id"]
            # Count words in the text received, not events: a word ending in a digit is sent
            # with the next one (it could be the start of a card number).
            heard = ""
            for line in lines:
                if line.startswith("data: {"):
                    for choice in json.loads(line.removeprefix("data: "))["choices"]:
                        heard += choice["delta"].get("content") or ""
                if "word2" in heard:
                    break

        conversation = logged_turn(completion_id)
        deadline = time.monotonic() + 15  # the upstream's 400 words would take 20 s
        while upstream.disconnected_at is None and time.monotonic() < deadline:
            time.sleep(0.01)  # polling for the upstream to notice
    finally:
        fintalk.stop()

    # The upstream would send 400 words; it saw the hang-up long before (no clock involved).
    assert upstream.disconnected_at is not None, "Fintalk kept reading the upstream"
    assert upstream.tokens_sent < 400
    assert conversation.status == Turn.Status.CANCELLED
    assert conversation.messages.get(is_answer=True).content.startswith(" word0 word1 word2")
