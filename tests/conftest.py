"""Shared fixtures: the demo bank, API keys, and real server processes.

Server processes are real gunicorn + uvicorn-worker processes sharing the test database,
so tests that use them need committed data (``transactional_db``).
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.db import connection

from api.keys import api_key_create
from bank.services import demo_bank_seed, demo_customers_describe
from conversations.writer import turn_logs_flush
from tests.agents.providers.fake_openai import MODEL, FakeOpenAIServer, Reply
from tests.scripted import QUIET, UPSTREAM_KEY, ScriptedModel

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = settings.get("USER") or "postgres"
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"


class ServerProcess:
    """A gunicorn + uvicorn-worker Fintalk server on a free loopback port."""

    running: list["ServerProcess"] = []

    def __init__(self, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = ROOT / f".server-{self.port}.log"
        full_env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "DATABASE_URL": _database_url(),
            "DJANGO_SETTINGS_MODULE": "fintalk.settings",
            **env,
        }
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "fintalk.asgi:application", "-c", "gunicorn.conf.py"],
            cwd=ROOT,
            env=full_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        ServerProcess.running.append(self)

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                httpx.get(f"{self.url}/v1/models", timeout=1.0)
                return
            except httpx.TransportError:
                time.sleep(0.05)  # polling for the port to open, not waiting out a race
        log = self.log_path.read_text()
        self.stop()
        raise RuntimeError(f"The server did not start within {timeout}s:\n{log}")

    def logs_written(self, timeout: float = 10.0) -> None:
        """Wait until the server's conversation-log writer has stored every finished turn
        (its backlog, on ``/metrics``, is zero); a server that has stopped has none."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                metrics = httpx.get(f"{self.url}/metrics", timeout=2.0).text
            except httpx.TransportError:
                return
            if "\nfintalk_conversation_log_backlog 0.0\n" in metrics:
                return
            time.sleep(0.02)  # polling for the writer, not waiting out a race

    def stop(self) -> None:
        if self in ServerProcess.running:
            ServerProcess.running.remove(self)
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()
        self.log_path.unlink(missing_ok=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    # Before the test's database is emptied: the background writers (the servers' and
    # this process's own) store the turns of this test now, not into the next test's
    # database or after the tables are gone.
    for server in list(ServerProcess.running):
        server.logs_written()
    turn_logs_flush()
    return (yield)


def _start(env: dict[str, str]) -> ServerProcess:
    server = ServerProcess(env)
    server.wait_ready()
    return server


@pytest.fixture(scope="session")
def live_server_url(django_db_setup, django_db_blocker) -> Iterator[str]:
    """A real server on the offline model, shared by the whole session."""
    server = _start({})
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def slow_server_url(django_db_setup, django_db_blocker) -> Iterator[str]:
    """A server whose offline model pauses between words, for disconnect tests."""
    server = _start({"LLM_OFFLINE_DELAY_MS": "40"})
    yield server.url
    server.stop()


@pytest.fixture
def demo_bank(transactional_db) -> dict:
    """The demo bank, committed so that server processes see it; as ``seed --json`` shows it."""
    demo_bank_seed()
    return {customer["name"]: customer for customer in demo_customers_describe()}


@pytest.fixture
def trusted_key(transactional_db) -> str:
    _, raw_key = api_key_create(name="vapi-gateway", trusted_channel=True)
    return raw_key


@pytest.fixture
def standard_key(transactional_db) -> str:
    _, raw_key = api_key_create(name="web-client", trusted_channel=False)
    return raw_key


@pytest.fixture(scope="session")
def _scripted_upstream() -> Iterator[FakeOpenAIServer]:
    server = FakeOpenAIServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def scripted_server_url(django_db_setup, django_db_blocker, _scripted_upstream) -> Iterator[str]:
    """A real server whose model is the scripted upstream (``tests.scripted``): no fallback,
    no retries; frequent keep-alives, so that a caller hanging up while the model is silent
    is noticed at the next one."""
    server = _start(
        {
            "LLM_PROVIDER": "openai",
            "LLM_API_ENDPOINT": _scripted_upstream.url,
            "LLM_MODEL": MODEL,
            "LLM_API_KEY": UPSTREAM_KEY,
            "LLM_MAX_RETRIES": "0",
            "LLM_FALLBACKS": "",
            "FINTALK_SSE_KEEPALIVE_SECONDS": "0.2",
        }
    )
    yield server.url
    server.stop()


@pytest.fixture
def scripted_model(_scripted_upstream) -> ScriptedModel:
    """The scripted model, with an empty script; it says ``QUIET`` once the script ends."""
    _scripted_upstream.reset()
    _scripted_upstream.app.default = Reply(QUIET)
    return ScriptedModel(_scripted_upstream.app)
