"""The chat page at /: staff only, served whole by Django, and its login-cookie access to
the session stream (CSRF-checked, demo customers only, switchable)."""

import json
import re

import httpx
import pytest
from django.contrib.auth import get_user_model

from agents.tools import BANK_TOOL_NAMES
from tests.conftest import ServerProcess
from tests.web.conftest import STAFF_PASSWORD, admin_login, page_csrf_token
from web.activity import TOOL_ACTIVITY

pytestmark = pytest.mark.django_db(transaction=True)
STREAM = "/api/llm/chat/session/stream"


def sse_events(reply: httpx.Response) -> list[dict]:
    return [json.loads(part[6:]) for part in reply.text.split("\n\n") if part.startswith("data: ")]


def logged_in_page(url: str) -> tuple[httpx.Client, str]:
    client = admin_login(url, username="teller", password=STAFF_PASSWORD)
    page = client.get("/")
    assert page.status_code == 200
    return client, page.text


def test_anonymous_visitors_are_sent_to_the_admin_login(live_server_url):
    reply = httpx.get(f"{live_server_url}/")

    assert reply.status_code == 302
    assert reply.headers["location"] == "/admin/login/?next=/"


def test_users_who_are_not_staff_are_sent_to_the_admin_login(live_server_url):
    get_user_model().objects.create_user(username="customer", password=STAFF_PASSWORD)
    client = httpx.Client(base_url=live_server_url, timeout=30)
    form = client.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    client.post("/admin/login/", data={"csrfmiddlewaretoken": token, "username": "customer", "password": STAFF_PASSWORD})

    reply = client.get("/")

    assert reply.status_code == 302 and reply.headers["location"].startswith("/admin/login/")


def test_the_page_has_a_labelled_message_box_a_log_and_only_local_files(live_server_url, staff_user):
    client, html = logged_in_page(live_server_url)

    assert '<label for="message">Message</label>' in html and 'id="message"' in html
    assert re.search(r'<div id="transcript" role="log"', html)
    assert 'href="/api/docs"' in html and 'href="/api/redoc"' in html
    assert "Ana Lopez (+14155550101)" in html
    linked = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert not [url for url in linked if "//" in url]  # no CDN, works offline
    for url in linked:
        assert client.get(url).status_code == 200, url


def test_the_page_streams_answers_and_tool_activity_with_the_staff_login(live_server_url, staff_user, demo_bank):
    client, html = logged_in_page(live_server_url)

    reply = client.post(
        STREAM,
        json={"session_id": "web-page-1", "message": "What loan options are available?"},
        headers={"X-CSRFToken": page_csrf_token(html)},
    )

    assert reply.status_code == 200, reply.text
    stream = sse_events(reply)
    assert {"tool": {"id": stream[0]["tool"]["id"], "name": "list_loan_products", "status": "started"}} == stream[0]
    assert "Personal Loan" in "".join(event.get("content", "") for event in stream)
    assert stream[-1] == {"done": True, "finish_reason": "stop"}


def test_without_the_csrf_token_the_login_cookie_opens_nothing(live_server_url, staff_user):
    client, _ = logged_in_page(live_server_url)

    reply = client.post(STREAM, json={"session_id": "web-page-2", "message": "hello"})

    assert reply.status_code == 403
    assert reply.json()["error"]["code"] == "csrf_failed"


def test_a_login_that_is_not_staff_opens_nothing(live_server_url):
    get_user_model().objects.create_user(username="customer", password=STAFF_PASSWORD)
    client = httpx.Client(base_url=live_server_url, timeout=30)
    form = client.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    client.post("/admin/login/", data={"csrfmiddlewaretoken": token, "username": "customer", "password": STAFF_PASSWORD})

    reply = client.post(
        STREAM, json={"session_id": "web-page-3", "message": "hello"}, headers={"X-CSRFToken": client.cookies["csrftoken"]}
    )

    assert reply.status_code == 401
    assert reply.json()["error"]["type"] == "authentication_error"


def test_staff_may_speak_as_a_demo_customer_and_no_one_else(live_server_url, staff_user, demo_bank):
    client, html = logged_in_page(live_server_url)
    headers = {"X-CSRFToken": page_csrf_token(html)}
    ana = demo_bank["Ana Lopez"]

    as_ana = client.post(
        STREAM,
        json={"session_id": "web-page-4", "phone_number": ana["phone"], "message": "what's my credit card balance"},
        headers=headers,
    )
    as_stranger = client.post(
        STREAM,
        json={"session_id": "web-page-5", "phone_number": "+14155550199", "message": "what's my credit card balance"},
        headers=headers,
    )

    assert "4567" in "".join(event.get("content", "") for event in sse_events(as_ana))
    assert as_stranger.status_code == 400
    assert as_stranger.json()["error"]["param"] == "phone_number"


def test_every_bank_tool_has_an_activity_phrase():
    assert set(TOOL_ACTIVITY) == set(BANK_TOOL_NAMES)


def test_the_chat_page_can_be_switched_off(django_db_setup, staff_user):
    server = ServerProcess({"FINTALK_CHAT_PAGE": "false"})
    try:
        server.wait_ready()
        client = admin_login(server.url, username="teller", password=STAFF_PASSWORD)
        page = client.get("/")
        stream = client.post(
            STREAM, json={"session_id": "web-page-6", "message": "hello"}, headers={"X-CSRFToken": client.cookies["csrftoken"]}
        )
    finally:
        server.stop()

    assert page.status_code == 404
    assert stream.status_code == 401  # the login cookie is not a key when the page is off


@pytest.mark.parametrize("path", ["/api/docs", "/api/redoc"])
def test_swagger_ui_and_redoc_come_from_this_server(live_server_url, path):
    client = httpx.Client(base_url=live_server_url, timeout=30)

    page = client.get(path)

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    linked = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert linked and not [url for url in linked if "//" in url]  # no CDN: works offline
    for url in linked:
        assert client.get(url).status_code == 200, url
    assert "/api/schema" in page.text
