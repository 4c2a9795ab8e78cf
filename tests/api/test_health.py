"""Health endpoints: alive, ready, and whether the model answers — never a secret."""

import os

import httpx
import pytest
from django.db import connection
from django.db.utils import OperationalError
from django.test import Client

from agents.providers import health
from agents.providers.offline import OfflineProvider
from tests.agents.providers.conftest import (  # noqa: F401 - the two fixtures are used by name
    UPSTREAM_KEY,
    _openai_upstream,
    closed_port_url,
    openai_provider,
    openai_upstream,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_health_state():
    """Probe results and remembered failures live for the process; each test starts clean."""
    health._probes.clear()
    health._last_failures.clear()
    yield
    health._probes.clear()
    health._last_failures.clear()


@pytest.fixture
def primary(monkeypatch):
    """Make the health views see ``provider`` as the configured primary (and no fallbacks)."""

    def configure(provider, fallbacks=()):
        monkeypatch.setattr("api.health.provider_configured", lambda: provider)
        monkeypatch.setattr("api.health.provider_fallbacks", lambda: tuple(fallbacks))

    return configure


def test_a_live_server_is_alive_ready_and_its_model_healthy(live_server_url):
    alive = httpx.get(f"{live_server_url}/healthz", timeout=10)
    ready = httpx.get(f"{live_server_url}/readyz", timeout=10)
    llm = httpx.get(f"{live_server_url}/api/llm/health", timeout=10)

    assert (alive.status_code, alive.json()) == (200, {"status": "ok"})
    assert ready.status_code == 200
    checks = ready.json()["checks"]
    assert ready.json()["status"] == "ready"
    assert checks == {"database": "ok", "llm_provider": "offline", "redis": checks["redis"]}
    assert checks["redis"] == ("ok" if os.environ.get("REDIS_URL") else "not configured")
    assert llm.status_code == 200
    body = llm.json()
    assert body["success"] is True and body["timestamp"]
    service = body["llm_service"]
    assert service["status"] == "healthy" and service["connected"] is True
    assert (service["provider"], service["model"]) == ("offline", "fintalk-offline")
    assert isinstance(service["latency_ms"], float) and service["last_error"] is None


def test_an_openai_upstream_is_probed_and_its_latency_reported(primary, openai_upstream):
    primary(openai_provider(openai_upstream.url))

    response = Client().get("/api/llm/health")

    assert response.status_code == 200
    service = response.json()["llm_service"]
    assert service["status"] == "healthy" and service["provider"] == "openai"
    assert service["url"] == openai_upstream.url and service["latency_ms"] > 0
    assert openai_upstream.app.requests == []  # the probe lists the models; it asks them nothing


def test_a_rejected_key_is_unhealthy_but_connected_and_the_key_never_shown(primary, openai_upstream):
    openai_upstream.app.models_status = 401
    primary(openai_provider(openai_upstream.url))

    response = Client().get("/api/llm/health")

    assert response.status_code == 503
    body = response.json()
    assert body["success"] is False
    service = body["llm_service"]
    assert (service["status"], service["connected"]) == ("unhealthy", True)
    assert "LLM_API_KEY" in service["last_error"] and service["last_error_at"]
    assert UPSTREAM_KEY not in response.content.decode()


def test_an_unreachable_upstream_is_not_connected_and_fallbacks_are_listed(primary):
    endpoint = closed_port_url()
    offline = OfflineProvider(model="fintalk-offline", bank_name="Fintalk Bank", word_delay_ms=0)
    primary(openai_provider(endpoint), fallbacks=[offline])

    body = Client().get("/api/llm/health").json()

    assert (body["llm_service"]["status"], body["llm_service"]["connected"]) == ("unhealthy", False)
    assert "LLM_API_ENDPOINT" in body["llm_service"]["last_error"]
    assert [(f["provider"], f["status"]) for f in body["fallbacks"]] == [("offline", "healthy")]


def test_urls_lose_their_credentials_before_they_are_shown(primary, openai_upstream):
    with_credentials = openai_upstream.url.replace("http://", "http://user:hunter2@") + "?key=abc"
    primary(openai_provider(with_credentials))

    response = Client().get("/api/llm/health")

    assert response.json()["llm_service"]["url"] == openai_upstream.url
    assert "hunter2" not in response.content.decode() and "abc" not in response.content.decode()


def test_a_probe_result_is_reused_for_a_few_seconds(primary, openai_upstream):
    primary(openai_provider(openai_upstream.url))

    Client().get("/api/llm/health")
    openai_upstream.app.models_status = 401
    second = Client().get("/api/llm/health")

    assert second.status_code == 200


def test_readiness_fails_when_the_database_does_not_answer(monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused (password=should-not-leak)")

    with monkeypatch.context() as patched:
        patched.setattr(connection, "cursor", unreachable)
        response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unreachable"
    assert "should-not-leak" not in response.content.decode()
