"""Pending actions: checked when asked for, done once when confirmed, within the limits —
also when the confirmations race each other on separate database connections."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from api.keys import api_key_create
from bank.errors import ActionRefused
from bank.models import Account, CreditCard, PendingAction, Transaction
from bank.services.actions import (
    Confirmation,
    pending_action_cancel,
    pending_action_confirm,
    pending_action_readback_delivered,
    pending_action_request,
    scheduled_payments_post,
)
from bank.services.sessions import caller_session_get_or_create

pytestmark = pytest.mark.django_db(transaction=True)
Kind, Status = PendingAction.Kind, PendingAction.Status


@pytest.fixture
def api_key_id(db) -> int:
    key, _ = api_key_create(name="vapi", trusted_channel=True)
    return key.pk


@pytest.fixture
def ana(customers_by_name):
    return customers_by_name["Ana Lopez"]


def _session(api_key_id: int, name: str = "call:1"):
    return caller_session_get_or_create(api_key_id=api_key_id, conversation_key=name)


def _heard(action: PendingAction) -> PendingAction:
    """The answer that asked for ``action`` read it back and finished."""
    assert pending_action_readback_delivered(
        action_id=action.pk, turn=action.requested_in_turn, now=timezone.now()
    )
    return action


def _transfer(ana, session, amount: str, *, turn: int = 1, heard: bool = True) -> PendingAction:
    savings, checking = ana.accounts.get(kind="savings"), ana.accounts.get(kind="checking")
    action = pending_action_request(
        session=session,
        customer=ana,
        kind=Kind.TRANSFER,
        summary="move money",
        turn=turn,
        from_account=savings,
        to_account=checking,
        amount=Decimal(amount),
        effective_on=timezone.localdate(),
        now=timezone.now(),
    )
    return _heard(action) if heard else action


def _confirm(session, ana, *, turn: int = 2) -> Confirmation:
    return pending_action_confirm(
        session_id=session.pk, customer_id=ana.pk, turn=turn, now=timezone.now()
    )


def test_a_transfer_moves_money_once_and_posts_two_entries(api_key_id, ana):
    session = _session(api_key_id)
    _transfer(ana, session, "250.00")

    done = _confirm(session, ana)
    again = _confirm(session, ana, turn=3)

    assert not done.already_done and again.already_done
    assert again.action.reference == done.action.reference
    assert ana.accounts.get(kind="savings").balance == Decimal("12200.00")
    assert ana.accounts.get(kind="checking").balance == Decimal("3097.53")
    assert Transaction.objects.filter(action=done.action).count() == 2


def test_confirming_in_the_same_turn_is_refused(api_key_id, ana):
    session = _session(api_key_id)
    _transfer(ana, session, "10.00", turn=4)

    with pytest.raises(ActionRefused) as refused:
        _confirm(session, ana, turn=4)

    assert refused.value.reason == "same_turn"
    assert PendingAction.objects.get().status == Status.PENDING


def test_an_action_the_caller_has_not_heard_cannot_be_confirmed(api_key_id, ana):
    session = _session(api_key_id)
    action = _transfer(ana, session, "10.00", heard=False)

    with pytest.raises(ActionRefused) as refused:
        _confirm(session, ana, turn=2)

    assert refused.value.reason == "not_read_back"
    assert refused.value.details == {
        "action_id": action.pk,
        "summary": "move money",
        "reference": action.reference,
    }
    assert PendingAction.objects.get().status == Status.PENDING
    assert ana.accounts.get(kind="savings").balance == Decimal("12450.00")


def test_only_the_turn_right_after_the_read_back_confirms(api_key_id, ana):
    session = _session(api_key_id)
    action = _transfer(ana, session, "10.00", turn=1)  # heard in the answer to turn 1

    with pytest.raises(ActionRefused) as refused:
        _confirm(session, ana, turn=3)  # the caller said something else in turn 2
    assert refused.value.reason == "not_read_back"

    pending_action_readback_delivered(action_id=action.pk, turn=3, now=timezone.now())
    assert _confirm(session, ana, turn=4).action.pk == action.pk


def test_a_read_back_is_recorded_only_while_the_action_waits(api_key_id, ana):
    session = _session(api_key_id)
    first = _transfer(ana, session, "10.00", heard=False)
    _transfer(ana, session, "20.00", heard=False)  # replaces the first

    assert not pending_action_readback_delivered(action_id=first.pk, turn=1, now=timezone.now())
    first.refresh_from_db()
    assert first.readback_turn is None


def test_an_expired_action_is_closed_and_not_done(api_key_id, ana, settings):
    session = _session(api_key_id)
    action = _transfer(ana, session, "10.00")
    later = action.expires_at + timedelta(seconds=1)

    with pytest.raises(ActionRefused) as refused:
        pending_action_confirm(session_id=session.pk, customer_id=ana.pk, turn=2, now=later)

    assert refused.value.reason == "expired"
    assert PendingAction.objects.get().status == Status.EXPIRED
    assert ana.accounts.get(kind="savings").balance == Decimal("12450.00")


def test_a_new_request_replaces_the_pending_one(api_key_id, ana):
    session = _session(api_key_id)
    first = _transfer(ana, session, "10.00")
    second = _transfer(ana, session, "20.00")

    assert _confirm(session, ana).action.pk == second.pk
    first.refresh_from_db()
    assert first.status == Status.CANCELLED


def test_cancel(api_key_id, ana):
    session = _session(api_key_id)
    _transfer(ana, session, "10.00")

    assert (
        pending_action_cancel(session_id=session.pk, now=timezone.now()).status == Status.CANCELLED
    )
    assert pending_action_cancel(session_id=session.pk, now=timezone.now()) is None
    with pytest.raises(ActionRefused):
        _confirm(session, ana)


@pytest.mark.parametrize(
    ("amount", "reason"),
    [("12450.01", "insufficient_funds"), ("5000.01", "daily_limit"), ("0", "no_amount")],
)
def test_amounts_are_checked_when_asked(api_key_id, ana, amount, reason):
    with pytest.raises(ActionRefused) as refused:
        _transfer(ana, _session(api_key_id), amount)

    assert refused.value.reason == reason
    assert not PendingAction.objects.exists()


def test_the_daily_limit_counts_what_was_already_moved(api_key_id, ana, settings):
    settings.BANK_DAILY_TRANSFER_LIMIT = 300
    session = _session(api_key_id)
    _transfer(ana, session, "200.00")
    _confirm(session, ana)

    with pytest.raises(ActionRefused) as refused:
        _transfer(ana, session, "100.01", turn=3)

    assert refused.value.details["remaining"] == Decimal("100.00")


def test_balances_are_checked_again_when_confirmed(api_key_id, ana):
    session = _session(api_key_id)
    _transfer(ana, session, "4000.00")
    Account.objects.filter(customer=ana, kind="savings").update(balance=Decimal("100.00"))

    with pytest.raises(ActionRefused) as refused:
        _confirm(session, ana)

    assert refused.value.reason == "insufficient_funds"
    assert PendingAction.objects.get().status == Status.REFUSED


def test_card_actions_check_the_cards_state(api_key_id, customers_by_name):
    chloe = customers_by_name["Chloe Nguyen"]
    frozen = chloe.cards.get(last4="2222")
    session = _session(api_key_id)

    with pytest.raises(ActionRefused) as refused:
        pending_action_request(
            session=session,
            customer=chloe,
            kind=Kind.FREEZE_CARD,
            summary="freeze",
            turn=1,
            card=frozen,
            now=timezone.now(),
        )

    assert refused.value.reason == "card_already_frozen"


def test_nobody_acts_on_another_customers_card(api_key_id, ana, customers_by_name):
    bens_card = customers_by_name["Ben Carter"].cards.get()

    with pytest.raises(ActionRefused) as refused:
        pending_action_request(
            session=_session(api_key_id),
            customer=ana,
            kind=Kind.FREEZE_CARD,
            summary="freeze",
            turn=1,
            card=bens_card,
            now=timezone.now(),
        )

    assert refused.value.reason == "not_yours"


def test_a_scheduled_payment_is_made_on_its_day_once(api_key_id, ana):
    session = _session(api_key_id)
    card, checking = ana.cards.get(), ana.accounts.get(kind="checking")
    day = timezone.localdate() + timedelta(days=2)
    action = pending_action_request(
        session=session,
        customer=ana,
        kind=Kind.CARD_PAYMENT,
        summary="pay",
        turn=1,
        card=card,
        from_account=checking,
        amount=Decimal("100.00"),
        effective_on=day,
        now=timezone.now(),
    )
    _heard(action)
    scheduled = _confirm(session, ana).action
    assert scheduled.status == Status.SCHEDULED

    assert scheduled_payments_post(today=day - timedelta(days=1)) == []
    assert [a.pk for a in scheduled_payments_post(today=day)] == [scheduled.pk]
    assert scheduled_payments_post(today=day) == []

    checking.refresh_from_db()
    assert checking.balance == Decimal("2747.53")
    assert CreditCard.objects.get(pk=card.pk).current_balance == Decimal("1134.56")


def _race(count: int, work) -> list:
    """Run ``work`` on ``count`` threads released together, each on its own connection."""
    start = threading.Barrier(count)

    def run(index: int):
        start.wait()
        try:
            return work(index)
        except ActionRefused as refusal:
            return refusal
        finally:
            connections.close_all()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_concurrent_duplicate_confirmations_pay_once(api_key_id, ana):
    session = _session(api_key_id)
    card = ana.cards.get()
    action = pending_action_request(
        session=session,
        customer=ana,
        kind=Kind.CARD_PAYMENT,
        summary="pay",
        turn=1,
        card=card,
        from_account=ana.accounts.get(kind="checking"),
        amount=Decimal("35.00"),
        effective_on=timezone.localdate(),
        now=timezone.now(),
    )
    _heard(action)

    results = _race(8, lambda index: _confirm(session, ana))

    assert all(isinstance(result, Confirmation) for result in results), results
    assert sum(not result.already_done for result in results) == 1
    assert len({result.action.reference for result in results}) == 1
    assert ana.accounts.get(kind="checking").balance == Decimal("2812.53")
    assert CreditCard.objects.get(pk=card.pk).current_balance == Decimal("1199.56")
    assert Transaction.objects.filter(action__isnull=False).count() == 2


def test_concurrent_confirmations_in_two_conversations_keep_the_daily_limit(api_key_id, ana):
    sessions = [_session(api_key_id, "call:a"), _session(api_key_id, "call:b")]
    for session in sessions:
        _transfer(ana, session, "3000.00")

    results = _race(2, lambda index: _confirm(sessions[index], ana))

    done = [r for r in results if isinstance(r, Confirmation)]
    refused = [r for r in results if isinstance(r, ActionRefused)]
    assert len(done) == 1 and len(refused) == 1
    assert refused[0].reason == "daily_limit"
    assert ana.accounts.get(kind="savings").balance == Decimal("9450.00")
