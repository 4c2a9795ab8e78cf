"""The tools enforce who and when in code, whatever the model chooses to call."""

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.utils import timezone

from agents.caller import CallerContext, ConversationRef
from agents.tools import accounts as account_tools
from agents.tools.accounts import find_transactions, get_account_balances
from agents.tools.actions import NEED_YES, confirm_pending_action
from agents.tools.base import UNEXPECTED, Refused
from agents.tools.cards import freeze_card
from agents.tools.faq import search_bank_faq
from api.keys import api_key_create
from bank.models import CallerSession, PendingAction
from bank.services import demo_bank_seed

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def run(awaitable):
    async def main():
        try:
            return await awaitable
        finally:
            await sync_to_async(connections.close_all)()

    return asyncio.run(main())


@pytest.fixture
def customers(transactional_db):
    return {customer.full_name: customer for customer in demo_bank_seed()}


@pytest.fixture
def key_id(transactional_db) -> int:
    return api_key_create(name="web", trusted_channel=False)[0].pk


def _caller(
    key_id: int, *, phone: str, text: str, turn: int, asserted: bool = False
) -> CallerContext:
    return CallerContext(
        phone=phone,
        asserted=asserted,
        conversation=ConversationRef(key_id, "id:tools"),
        turn=turn,
        latest_user_text=text,
    )


def test_confirming_needs_the_callers_own_yes(customers, key_id):
    ana = customers["Ana Lopez"]
    run(freeze_card(_caller(key_id, phone=ana.phone, text="freeze my card", turn=1, asserted=True)))

    with pytest.raises(Refused) as refused:
        run(
            confirm_pending_action(
                _caller(key_id, phone=ana.phone, text="what's my balance", turn=2, asserted=True)
            )
        )

    assert str(refused.value) == NEED_YES
    assert PendingAction.objects.get().status == "pending"


def test_a_verified_conversation_acts_for_its_customer_whatever_number_is_claimed_now(
    customers, key_id
):
    ana, ben = customers["Ana Lopez"], customers["Ben Carter"]
    CallerSession.objects.create(
        api_key_id=key_id, conversation_key="id:tools", customer=ana, verified_at=timezone.now()
    )

    answer = run(
        get_account_balances(_caller(key_id, phone=ben.phone, text="balance for Ben", turn=3))
    )

    assert "3011" in answer and "4820" not in answer


def test_verification_expires(customers, key_id, settings):
    ana = customers["Ana Lopez"]
    long_ago = timezone.now() - timedelta(minutes=settings.BANK_VERIFICATION_TTL_MINUTES + 1)
    CallerSession.objects.create(
        api_key_id=key_id, conversation_key="id:tools", customer=ana, verified_at=long_ago
    )

    with pytest.raises(Refused, match="verify your identity"):
        run(get_account_balances(_caller(key_id, phone=ana.phone, text="balance", turn=1)))


def test_a_failure_inside_a_tool_is_a_plain_apology(customers, key_id, monkeypatch):
    ana = customers["Ana Lopez"]

    async def broken(**kwargs):
        raise RuntimeError("database exploded: SELECT * FROM bank_account")

    monkeypatch.setattr(account_tools, "transaction_search", broken)

    with pytest.raises(Refused) as refused:
        run(find_transactions(_caller(key_id, phone=ana.phone, text="x", turn=1, asserted=True)))

    assert str(refused.value) == UNEXPECTED


def test_faq_needs_no_identity_and_cites_its_document():
    answer = run(
        search_bank_faq(CallerContext(), question="do you charge foreign transaction fees?")
    )

    assert answer.startswith('According to our "Fees and charges" guide (Card fees):')
    assert "no foreign transaction fee" in answer


def test_faq_index_is_built_without_the_network():
    code = (
        "import socket\n"
        "def refuse(*args, **kwargs): raise OSError('the FAQ tried to use the network')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "import django; django.setup()\n"
        "from agents.tools.faq import faq_search\n"
        "print(faq_search('what time do you open on saturday').node.metadata['file'])\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "fintalk.settings", "DJANGO_DEBUG": "true"}

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("bank/faq/hours-and-branches.md")
