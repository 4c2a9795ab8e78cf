"""Request ids on every API reply, and Prometheus metrics after real traffic."""

import re

import httpx
import pytest

pytestmark = pytest.mark.django_db(transaction=True)


_SAMPLE = re.compile(r"^(?P<name>[a-z_]+)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")


def metric(text: str, name: str, **labels) -> float:
    """The sum of a metric's samples whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        sample = _SAMPLE.match(line)
        if not sample or sample["name"] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', sample["labels"] or ""))
        if all(found.get(key) == value for key, value in labels.items()):
            total += float(sample["value"])
    return total


def test_a_callers_request_id_is_echoed_and_one_is_made_otherwise(live_server_url, trusted_key):
    headers = {"Authorization": f"Bearer {trusted_key}"}

    echoed = httpx.get(f"{live_server_url}/v1/models", headers={**headers, "X-Request-ID": "req-12345678"})
    made = httpx.get(f"{live_server_url}/v1/models", headers=headers)
    bogus = httpx.get(f"{live_server_url}/v1/models", headers={**headers, "X-Request-ID": "<script>"})

    assert echoed.headers["x-request-id"] == "req-12345678"
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    assert re.fullmatch(r"[0-9a-f]{32}", bogus.headers["x-request-id"])


def test_metrics_count_requests_tokens_tools_and_time_to_first_token(live_server_url, trusted_key, demo_bank):
    before = httpx.get(f"{live_server_url}/metrics").text
    httpx.post(
        f"{live_server_url}/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "what loan options are there"}]},
        headers={"Authorization": f"Bearer {trusted_key}"},
        timeout=30,
    )

    after = httpx.get(f"{live_server_url}/metrics").text

    def grew(name, **labels):
        return metric(after, name, **labels) - metric(before, name, **labels)

    assert grew("fintalk_requests_total", endpoint="ChatCompletionsView", status="200") == 1
    assert grew("fintalk_time_to_first_token_seconds_count", provider="offline") == 1
    assert grew("fintalk_tokens_total", provider="offline", direction="completion") > 10
    assert grew("fintalk_tool_duration_seconds_count", tool="list_loan_products") == 1
    assert metric(after, "fintalk_open_streams") == 0


def test_metrics_need_the_token_when_one_is_set(django_db_setup):
    from tests.conftest import ServerProcess

    server = ServerProcess({"METRICS_TOKEN": "metrics-secret-1"})
    try:
        server.wait_ready()
        denied = httpx.get(f"{server.url}/metrics")
        allowed = httpx.get(f"{server.url}/metrics", headers={"Authorization": "Bearer metrics-secret-1"})
    finally:
        server.stop()

    assert denied.status_code == 403
    assert denied.json()["error"]["type"] == "permission_error"
    assert allowed.status_code == 200
    assert "fintalk_requests_total" in allowed.text
