"""Rate limits and token budgets: 429 in the OpenAI envelope with Retry-After."""

import os
import socket

import httpx
import pytest

from api.keys import api_key_create
from api.ratelimit import client_ip
from tests.conftest import ServerProcess

pytestmark = pytest.mark.django_db(transaction=True)

HELLO = {"messages": [{"role": "user", "content": "hello"}], "stream": False}


def limited_key(**limits) -> str:
    key, raw_key = api_key_create(name=f"limited-{os.urandom(4).hex()}")
    for field, value in limits.items():
        setattr(key, field, value)
    key.save()
    return raw_key


def ask(url: str, key: str, body: dict = HELLO) -> httpx.Response:
    return httpx.post(
        f"{url}/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )


def assert_rate_limited(response: httpx.Response, code: str) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) >= 1
    error = response.json()["error"]
    assert error["type"] == "rate_limit_error"
    assert error["code"] == code


def test_requests_over_the_keys_limit_get_429_with_retry_after(live_server_url):
    key = limited_key(requests_per_minute=3)

    statuses = [ask(live_server_url, key).status_code for _ in range(3)]
    over = ask(live_server_url, key)

    assert statuses == [200, 200, 200]
    assert_rate_limited(over, "rate_limit_exceeded")


def test_a_key_with_limit_zero_is_unlimited(live_server_url):
    key = limited_key(requests_per_minute=0)

    assert {ask(live_server_url, key).status_code for _ in range(5)} == {200}


def test_a_spent_token_budget_blocks_the_key_until_tomorrow(live_server_url):
    key = limited_key(tokens_per_day=20)

    first = ask(live_server_url, key)
    second = ask(live_server_url, key)

    assert first.status_code == 200 and first.json()["usage"]["total_tokens"] > 20
    assert_rate_limited(second, "tokens_exhausted")


def _redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.fixture
def two_servers_sharing_redis(django_db_setup):
    if not _redis_reachable():
        if os.environ.get("CI"):
            pytest.fail("Redis is not reachable on 127.0.0.1:6379")
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    servers = [ServerProcess({"REDIS_URL": "redis://127.0.0.1:6379/0"}) for _ in range(2)]
    try:
        for server in servers:
            server.wait_ready()
        yield [server.url for server in servers]
    finally:
        for server in servers:
            server.stop()


def test_two_servers_sharing_redis_enforce_one_combined_limit(two_servers_sharing_redis):
    first, second = two_servers_sharing_redis
    key = limited_key(requests_per_minute=4)

    statuses = [ask(url, key).status_code for url in (first, second, first, second)]
    over_first, over_second = ask(first, key), ask(second, key)

    assert statuses == [200, 200, 200, 200]
    assert_rate_limited(over_first, "rate_limit_exceeded")
    assert_rate_limited(over_second, "rate_limit_exceeded")


def test_too_many_messages_or_characters_are_400(live_server_url, settings):
    key = limited_key()
    many = {"messages": [{"role": "user", "content": "hi"}] * 201}
    long = {"messages": [{"role": "user", "content": "x" * 32_001}]}

    for body, param in ((many, "messages"), (long, "messages[0].content")):
        response = ask(live_server_url, key, body)
        assert response.status_code == 400
        assert response.json()["error"]["param"] == param


def test_client_ip_trusts_forwarded_for_only_when_told(settings):
    meta = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9, 10.0.0.1"}

    settings.RATE_LIMIT_TRUST_FORWARDED_FOR = False
    assert client_ip(meta) == "10.0.0.1"
    settings.RATE_LIMIT_TRUST_FORWARDED_FOR = True
    assert client_ip(meta) == "203.0.113.9"


def test_the_per_address_limit_counts_every_key_from_one_address(django_db_setup, transactional_db):
    server = ServerProcess({"RATE_LIMIT_IP_PER_MINUTE": "3"})
    try:
        server.wait_ready()
        keys = [limited_key() for _ in range(4)]
        statuses = [ask(server.url, key).status_code for key in keys[:3]]
        over = ask(server.url, keys[3])
    finally:
        server.stop()

    assert statuses == [200, 200, 200]
    assert_rate_limited(over, "rate_limit_exceeded")
    assert "from this address" in over.json()["error"]["message"]
