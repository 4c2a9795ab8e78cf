"""Token usage and estimated cost, per conversation and per API key, in the admin."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from api.keys import api_key_create
from conversations.services import turn_log_write
from tests.conversations.factories import turn_record

pytestmark = pytest.mark.django_db


def log(api_key_id: int, prompt: int, completion: int):
    return turn_log_write(
        record=turn_record(api_key_id=api_key_id, prompt_tokens=prompt, completion_tokens=completion)
    ).conversation


def test_costs_are_estimated_at_the_configured_prices_and_summed_per_key(settings):
    settings.LLM_PRICE_PROMPT_PER_MILLION = 1.0
    settings.LLM_PRICE_COMPLETION_PER_MILLION = 4.0
    key, _ = api_key_create(name="priced")
    conversation = log(key.pk, 1_000, 500)
    log(key.pk, 2_000, 500)
    browser = Client()
    browser.force_login(User.objects.create_superuser("staff", "s@example.com", "pw"))

    keys_page = browser.get("/admin/api/apikey/").content.decode()
    conversation_page = browser.get("/admin/conversations/conversation/").content.decode()

    assert conversation.estimated_cost == pytest.approx(0.003)
    assert "0.003000" in conversation_page
    assert "4000" in keys_page  # 3,000 prompt + 1,000 completion tokens
    assert "0.0070" in keys_page  # $0.003 + $0.004
