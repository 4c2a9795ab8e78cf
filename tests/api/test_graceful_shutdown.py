"""On SIGTERM, gunicorn lets an open stream finish before the worker exits."""

import json
import signal

import httpx
import pytest

from tests.conftest import ServerProcess

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_open_stream_finishes_after_sigterm(trusted_key):
    server = ServerProcess({"LLM_OFFLINE_DELAY_MS": "30", "GUNICORN_GRACEFUL_TIMEOUT": "20"})
    try:
        server.wait_ready()
        with httpx.stream(
            "POST",
            f"{server.url}/v1/chat/completions",
            json={"messages": [{"role": "user", "content": "hello"}], "stream": True},
            headers={"Authorization": f"Bearer {trusted_key}"},
            timeout=30,
        ) as response:
            lines = response.iter_lines()
            assert json.loads(next(lines).removeprefix("data: "))["object"] == "chat.completion.chunk"
            server.process.send_signal(signal.SIGTERM)
            rest = [line for line in lines if line]
        exit_code = server.process.wait(timeout=30)
    finally:
        server.stop()

    assert rest[-1] == "data: [DONE]"
    assert '"finish_reason":"stop"' in rest[-2]
    assert exit_code == 0
