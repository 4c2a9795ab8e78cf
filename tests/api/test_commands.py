import asyncio
import io

import pytest
from asgiref.sync import sync_to_async
from django.core.management import CommandError, call_command
from django.db import connections

from api.keys import api_key_authenticate, api_key_create, api_key_revoke
from api.models import ApiKey, api_key_hash
from fintalk import errors


@pytest.mark.django_db
def test_create_api_key_prints_the_key_once_and_stores_only_its_hash():
    out = io.StringIO()

    call_command("create_api_key", "vapi", "--trusted-channel", "--quiet", stdout=out)

    raw_key = out.getvalue().strip()
    key = ApiKey.objects.get(name="vapi")
    assert key.trusted_channel
    assert key.hashed_key == api_key_hash(raw_key)
    assert raw_key not in {key.hashed_key, key.prefix}
    assert raw_key.startswith(key.prefix)


@pytest.mark.django_db
def test_create_api_key_refuses_a_duplicate_name():
    call_command("create_api_key", "web", stdout=io.StringIO())

    with pytest.raises(CommandError):
        call_command("create_api_key", "web", stdout=io.StringIO())


@pytest.mark.django_db
def test_dev_key_is_reused_between_runs(tmp_path, monkeypatch):
    from api.management.commands import dev_key

    monkeypatch.setattr(dev_key, "DEV_KEY_FILE", tmp_path / "key")
    first, second = io.StringIO(), io.StringIO()

    call_command("dev_key", stdout=first)
    call_command("dev_key", stdout=second)

    raw_key = (tmp_path / "key").read_text().strip()
    assert raw_key in first.getvalue() and raw_key in second.getvalue()
    assert ApiKey.objects.get(name="local-dev").trusted_channel
    assert "curl" in first.getvalue() and "OpenAI(" in first.getvalue()


@pytest.mark.django_db
def test_dev_key_on_a_database_that_never_saw_it_is_the_same_key(tmp_path, monkeypatch):
    # make run with another DATABASE_URL: the file's key must stay valid for the server
    # already running on the first database, so the new database learns that same key.
    from api.management.commands import dev_key

    monkeypatch.setattr(dev_key, "DEV_KEY_FILE", tmp_path / "key")
    call_command("dev_key", stdout=io.StringIO())
    raw_key = (tmp_path / "key").read_text().strip()
    ApiKey.objects.all().delete()  # what the other database holds

    call_command("dev_key", stdout=io.StringIO())

    assert (tmp_path / "key").read_text().strip() == raw_key
    assert ApiKey.objects.get(name="local-dev").hashed_key == api_key_hash(raw_key)


@pytest.mark.django_db
def test_a_revoked_dev_key_is_replaced(tmp_path, monkeypatch):
    from api.management.commands import dev_key

    monkeypatch.setattr(dev_key, "DEV_KEY_FILE", tmp_path / "key")
    call_command("dev_key", stdout=io.StringIO())
    revoked = (tmp_path / "key").read_text().strip()
    api_key_revoke(key=ApiKey.objects.get(name="local-dev"))

    call_command("dev_key", stdout=io.StringIO())

    replacement = (tmp_path / "key").read_text().strip()
    assert replacement != revoked
    assert ApiKey.objects.get(name="local-dev", revoked_at__isnull=True).hashed_key == api_key_hash(replacement)



@pytest.mark.django_db(transaction=True)
def test_a_revoked_key_is_refused_once_the_cache_time_has_passed(settings, monkeypatch):
    settings.API_KEY_CACHE_SECONDS = 60
    now = [1000.0]
    monkeypatch.setattr("api.keys._clock", lambda: now[0])
    key, raw_key = api_key_create(name="short-lived")

    def authenticate() -> ApiKey:
        async def main():
            try:
                return await api_key_authenticate(authorization=f"Bearer {raw_key}")
            finally:
                await sync_to_async(connections.close_all)()

        return asyncio.run(main())

    assert authenticate().pk == key.pk
    api_key_revoke(key=key)
    assert authenticate().pk == key.pk  # still remembered
    now[0] += 61  # the remembered entry expires (the clock moves; nothing sleeps)
    with pytest.raises(errors.NotAuthenticated):
        authenticate()
