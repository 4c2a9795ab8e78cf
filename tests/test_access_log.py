"""`make run` turns gunicorn's access log on (GUNICORN_ACCESS_LOG=-): one line per request,
saying what was asked for and how it ended, never what was said."""

import httpx
import pytest

from tests.conftest import ServerProcess


@pytest.mark.django_db(transaction=True)
def test_access_log_has_one_line_per_request_and_no_message_text(trusted_key):
    server = ServerProcess({"GUNICORN_ACCESS_LOG": "-"})
    try:
        server.wait_ready()
        before = server.log_path.read_text()
        reply = httpx.post(
            f"{server.url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {trusted_key}"},
            json={"messages": [{"role": "user", "content": "What loan options zebracorn?"}]},
            timeout=30,
        )
        logged = server.log_path.read_text()[len(before):]
    finally:
        server.stop()

    assert reply.status_code == 200
    access_lines = [line for line in logged.splitlines() if '"POST /v1/chat/completions' in line]
    assert len(access_lines) == 1, logged
    assert access_lines[0].endswith(" 200")
    assert "zebracorn" not in logged
