"""Staff users and logged-in browser-like HTTP clients for the chat page's tests."""

import re

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

STAFF_PASSWORD = "a-long-staff-password-1"


@pytest.fixture
def staff_user(transactional_db):
    """An active staff member (not a superuser) who may read the conversation logs,
    committed so server processes see it."""
    user = get_user_model().objects.create_user(username="teller", password=STAFF_PASSWORD, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_conversation"))
    return user


def admin_login(base_url: str, *, username: str, password: str) -> httpx.Client:
    """An HTTP client logged in through the admin's own login form, as a browser would be."""
    client = httpx.Client(base_url=base_url, timeout=30)
    form = client.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    reply = client.post(
        "/admin/login/?next=/",
        data={"csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/"},
        headers={"Referer": f"{base_url}/admin/login/"},
    )
    assert reply.status_code == 302, reply.text[:500]
    return client


def page_csrf_token(page_html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page_html).group(1)
