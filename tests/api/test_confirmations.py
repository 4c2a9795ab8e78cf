"""Saying yes twice pays once, even when the duplicate "yes" requests arrive together at
two server processes (Vapi retries, a double tap in the app)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from bank.models import Account, PendingAction, Transaction
from tests.chat import REFERENCE, Chat, answer_text, post
from tests.conftest import _start

pytestmark = pytest.mark.django_db(transaction=True)
DUPLICATES = 6


@pytest.fixture(scope="module")
def two_workers_url(django_db_setup, django_db_blocker):
    """A server with two worker processes, so that duplicates really run side by side."""
    server = _start({"WEB_CONCURRENCY": "2"})
    yield server.url
    server.stop()


def _send_together(chat: Chat, count: int) -> list[str]:
    body = chat.body()
    start = threading.Barrier(count)

    def send(_):
        start.wait()
        return answer_text(post(chat.url, chat.key, body))

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(send, range(count)))


def test_duplicate_yes_requests_pay_once(two_workers_url, trusted_key, demo_bank):
    ana = demo_bank["Ana Lopez"]
    chat = Chat(two_workers_url, trusted_key, phone=ana["phone"])
    assert "Say yes to confirm" in chat.say("pay the minimum on my credit card")
    chat.messages.append({"role": "user", "content": "yes"})

    answers = _send_together(chat, DUPLICATES)

    paid = [answer for answer in answers if answer.startswith("I've paid $35.00")]
    repeated = [answer for answer in answers if answer.startswith("That was already done")]
    assert len(paid) == 1 and len(repeated) == DUPLICATES - 1, answers
    assert len({REFERENCE.search(answer)[0] for answer in answers}) == 1
    action = PendingAction.objects.get()
    assert action.status == "completed"
    assert Transaction.objects.filter(action=action).count() == 2
    checking = Account.objects.get(last4=ana["accounts"][0]["last4"])
    assert checking.balance == Decimal(ana["accounts"][0]["balance"]) - Decimal("35.00")


def test_concurrent_transfers_in_two_calls_stay_within_the_daily_limit(
    two_workers_url, trusted_key, demo_bank
):
    ana = demo_bank["Ana Lopez"]
    calls = [Chat(two_workers_url, trusted_key, phone=ana["phone"]) for _ in range(2)]
    for chat in calls:
        assert "Say yes to confirm" in chat.say("transfer $3,000 from savings to checking")
        chat.messages.append({"role": "user", "content": "yes"})
    start = threading.Barrier(len(calls))

    def confirm(chat: Chat) -> str:
        start.wait()
        return answer_text(post(chat.url, chat.key, chat.body()))

    with ThreadPoolExecutor(len(calls)) as pool:
        answers = list(pool.map(confirm, calls))

    assert sum("I've moved $3,000.00" in answer for answer in answers) == 1, answers
    assert sum("daily limit" in answer for answer in answers) == 1, answers
    savings = Account.objects.get(last4=ana["accounts"][1]["last4"])
    assert savings.balance == Decimal(ana["accounts"][1]["balance"]) - Decimal("3000.00")


def test_an_unconfirmed_request_is_not_confirmed_by_a_later_unrelated_message(
    live_server_url, trusted_key, demo_bank
):
    chat = Chat(live_server_url, trusted_key, phone=demo_bank["Ana Lopez"]["phone"])
    chat.say("transfer $100 from savings to checking")

    chat.say("what's my balance?")
    answer = chat.say("ok")

    assert "I've moved" not in answer
    assert PendingAction.objects.get().status == "pending"
