"""No log line carries the caller's words, at any LOG_LEVEL, whichever library wrote it."""

import httpx
import pytest

from tests.agents.providers.conftest import UPSTREAM_KEY
from tests.agents.providers.fake_openai import MODEL
from tests.agents.providers.test_websocket import mock_server_url  # noqa: F401 - a fixture
from tests.conftest import ServerProcess

pytestmark = pytest.mark.django_db(transaction=True)

MARKER = "quokka-marmalade-7193"


@pytest.mark.parametrize("provider", ["offline", "openai", "websocket"])
def test_at_debug_level_the_log_never_holds_the_message_text(
    _openai_upstream, mock_server_url, trusted_key, demo_bank, provider
):
    env = {"LOG_LEVEL": "DEBUG"}
    if provider == "openai":
        env |= {"LLM_PROVIDER": "openai", "LLM_API_ENDPOINT": _openai_upstream.url, "LLM_MODEL": MODEL, "LLM_API_KEY": UPSTREAM_KEY}
    if provider == "websocket":  # the websockets library logs every frame at DEBUG
        env |= {"LLM_PROVIDER": "websocket", "LLM_WEBSOCKET_URL": mock_server_url, "LLM_MODEL": "mock-websocket-llm"}
    server = ServerProcess(env)
    try:
        server.wait_ready()
        for stream in (True, False):
            response = httpx.post(
                f"{server.url}/v1/chat/completions",
                json={"messages": [{"role": "user", "content": f"what is {MARKER}?"}], "stream": stream},
                headers={"Authorization": f"Bearer {trusted_key}"},
                timeout=30,
            )
            assert response.status_code == 200, response.text
        log = server.log_path.read_text()
    finally:
        server.stop()

    assert "[DEBUG]" in log  # the level took effect (gunicorn's own lines show it)
    assert MARKER not in log
