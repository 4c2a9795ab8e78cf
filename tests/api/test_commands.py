import io

import pytest
from django.core.management import CommandError, call_command

from api.models import ApiKey, api_key_hash


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
