"""Redis unreachable: answers go on (limits fail open, loudly and counted); /readyz says so."""

import os
import socket

import httpx
import pytest

from api.keys import api_key_create
from tests.conftest import ServerProcess

pytestmark = pytest.mark.django_db(transaction=True)

HELLO = [{"role": "user", "content": "hello"}]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


@pytest.fixture
def server_without_redis(transactional_db):
    server = ServerProcess({"REDIS_URL": f"redis://127.0.0.1:{_closed_port()}/3"})
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_answers_continue_and_readiness_reports_redis_degraded(server_without_redis):
    key, raw_key = api_key_create(name=f"one-a-minute-{os.urandom(4).hex()}")
    key.requests_per_minute = 1
    key.tokens_per_day = 10
    key.save()
    headers = {"Authorization": f"Bearer {raw_key}"}
    url = server_without_redis.url

    plain = httpx.post(f"{url}/v1/chat/completions", json={"messages": HELLO}, headers=headers, timeout=30)
    streamed = httpx.post(f"{url}/api/chat/completions", json={"messages": HELLO}, headers=headers, timeout=30)
    session = httpx.post(
        f"{url}/api/llm/chat/session/stream", json={"session_id": "s1", "message": "hello"}, headers=headers, timeout=30
    )
    ready = httpx.get(f"{url}/readyz", timeout=30)
    metrics = httpx.get(f"{url}/metrics", timeout=30).text

    # Over the key's one request a minute and its 10 tokens a day: the limits failed open.
    assert plain.status_code == 200, plain.text
    assert plain.json()["choices"][0]["message"]["content"]
    assert streamed.status_code == 200 and streamed.text.endswith("data: [DONE]\n\n")
    assert session.status_code == 200 and '"done": true' in session.text.replace('"done":true', '"done": true')
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert ready.json()["checks"]["redis"] == "unreachable"
    failures = [line for line in metrics.splitlines() if line.startswith("fintalk_dependency_failures_total{")]
    assert failures and sum(float(line.rsplit(" ", 1)[1]) for line in failures) >= 3


def test_the_outage_is_logged_as_an_error_saying_what_is_not_enforced(server_without_redis, trusted_key):
    httpx.post(
        f"{server_without_redis.url}/v1/chat/completions",
        json={"messages": HELLO},
        headers={"Authorization": f"Bearer {trusted_key}"},
        timeout=30,
    )
    log = server_without_redis.log_path.read_text()

    errors = [line for line in log.splitlines() if " ERROR " in line and "Redis is unreachable" in line]
    assert errors and "NOT enforced" in errors[0]
    assert "Traceback" not in log
