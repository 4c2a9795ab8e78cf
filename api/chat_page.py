"""The chat page's own requests to the session stream: a staff login instead of an API key.

The chat page at ``/`` (``web/``) carries no API key. Its requests to
``POST /api/llm/chat/session/stream`` send no ``Authorization`` header; they carry the
staff member's Django login cookie and a CSRF token, checked here and only here. The API's
other requests never reach this module, so its hot path still runs without Django's
session, authentication and CSRF middleware (see ``fintalk/middleware.py``).

Such a request is answered under one API key row of its own, ``chat-page`` (created on
first use, with a random key nobody holds), so rate limits, history and conversation logs
work as for any caller; revoking that key in the admin switches the page's answers off.
The key is a trusted channel because staff may speak as a **demo** customer: the page's
``phone_number`` is honoured only when it is one of ``bank.demo.DEMO_CUSTOMERS``.
"""

from importlib import import_module

from django.conf import settings
from django.contrib.auth import aget_user
from django.middleware.csrf import CsrfViewMiddleware

from api.models import ApiKey, api_key_generate, api_key_hash
from bank.demo import DEMO_CUSTOMERS
from fintalk import errors

CHAT_PAGE_KEY_NAME = "chat-page"
DEMO_PHONES = frozenset(customer.phone for customer in DEMO_CUSTOMERS)


def is_chat_page_request(request) -> bool:
    """True for a request sent by the chat page: no API key, a login cookie, page on."""
    return (
        settings.FINTALK_CHAT_PAGE
        and not request.META.get("HTTP_AUTHORIZATION")
        and settings.SESSION_COOKIE_NAME in request.COOKIES
    )


def _csrf_passes(django_request) -> bool:
    """Django's own CSRF check (origin, cookie and X-CSRFToken header), as its middleware runs it."""
    return CsrfViewMiddleware(lambda _: None).process_view(django_request, None, (), {}) is None


async def chat_page_authenticate(django_request) -> ApiKey:
    """The ``chat-page`` API key, for a logged-in, active staff member's CSRF-checked request.

    Raises ``errors.NotAuthenticated`` (401) without a staff login or when the
    ``chat-page`` key was revoked, and ``errors.PermissionDenied`` (403) when the CSRF
    token is missing or wrong.
    """
    engine = import_module(settings.SESSION_ENGINE)
    django_request.session = engine.SessionStore(django_request.COOKIES[settings.SESSION_COOKIE_NAME])
    user = await aget_user(django_request)
    if not (user.is_authenticated and user.is_active and user.is_staff):
        raise errors.NotAuthenticated(
            "Log in to the admin as a staff member to use the chat page, or send an API key."
        )
    if not _csrf_passes(django_request):
        raise errors.PermissionDenied(
            "The chat page's CSRF token is missing or wrong: reload the page.", code="csrf_failed"
        )
    raw_key = api_key_generate()  # held by nobody: only this module answers as the key
    key, _ = await ApiKey.objects.aget_or_create(
        name=CHAT_PAGE_KEY_NAME,
        defaults={"prefix": raw_key[:10], "hashed_key": api_key_hash(raw_key), "trusted_channel": True},
    )
    if key.revoked_at is not None:
        raise errors.NotAuthenticated(f"The {CHAT_PAGE_KEY_NAME!r} API key was revoked in the admin.")
    return key


def chat_page_identity_check(phone_number: str | None) -> None:
    """Staff may speak as a demo customer only; any other number is a 400."""
    if phone_number and phone_number not in DEMO_PHONES:
        raise errors.InvalidRequest(
            "The chat page may speak only as one of the demo customers.", param="phone_number"
        )
