"""API key services and selectors."""

import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from api.models import ApiKey, api_key_generate, api_key_hash
from fintalk import errors


@transaction.atomic
def api_key_create(
    *, name: str, trusted_channel: bool = False, raw_key: str | None = None
) -> tuple[ApiKey, str]:
    """Create a key; returns it with the raw key, which is never stored and shown once.

    ``raw_key`` registers an existing key instead of generating one (the local development
    key, shared by every local database so that servers on different databases accept it).
    """
    raw_key = raw_key or api_key_generate()
    key = ApiKey.objects.create(
        name=name,
        prefix=raw_key[:10],
        hashed_key=api_key_hash(raw_key),
        trusted_channel=trusted_channel,
    )
    return key, raw_key


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def bearer_token(authorization: str) -> str:
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise errors.NotAuthenticated(
            "Missing API key: send it as 'Authorization: Bearer <key>'. "
            "Create one with 'python manage.py create_api_key NAME'."
        )
    return token.strip()


# Hash -> (key, expiry): a voice call's every turn would otherwise wait for a database
# round trip (7 ms at p50 on SQLite, measured by bench.profile) before its first token.
_recent: dict[str, tuple[ApiKey, float]] = {}
# The clock the remembered keys expire by (tests move it instead of sleeping).
_clock = time.monotonic


async def api_key_authenticate(*, authorization: str) -> ApiKey:
    """The active key named by an ``Authorization`` header, or NotAuthenticated.

    A key found active is remembered for ``API_KEY_CACHE_SECONDS``; revoking it (or
    changing its limits) takes effect within that time. Unknown keys are never remembered.
    """
    hashed = api_key_hash(bearer_token(authorization))
    now = _clock()
    remembered = _recent.get(hashed)
    if remembered is not None and remembered[1] > now:
        return remembered[0]
    key = await ApiKey.objects.filter(hashed_key=hashed, revoked_at__isnull=True).afirst()
    if key is None:
        _recent.pop(hashed, None)
        raise errors.NotAuthenticated("Incorrect or revoked API key provided.")
    if settings.API_KEY_CACHE_SECONDS:
        if len(_recent) > 10_000:
            _recent.clear()
        _recent[hashed] = (key, now + settings.API_KEY_CACHE_SECONDS)
    return key
