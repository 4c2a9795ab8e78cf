"""Actions that move money or change a card: requested, read back, confirmed, done once.

An action is confirmed only in the caller's turn right after the answer that read it back
to them finished (``pending_action_readback_delivered`` records that answer's turn); the
read-back is Fintalk's own words, never the model's (``agents.readbacks``).

The same checks run when an action is requested (to tell the caller at once) and again
when it is confirmed, with the rows locked (what counts is the state at that moment).
Confirming locks the conversation, then the customer, then the accounts and card, always
in that order, so duplicate confirmations queue up and find the action already done, and
two conversations of one customer cannot together pass the daily limit.
"""

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from bank.errors import ActionRefused
from bank.models import Account, CallerSession, CreditCard, Customer, PendingAction, Transaction

Kind, Status = PendingAction.Kind, PendingAction.Status
CARD_KINDS = (Kind.FREEZE_CARD, Kind.UNFREEZE_CARD, Kind.REPORT_CARD_LOST, Kind.REPORT_CARD_STOLEN)
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to mishear
_LONGEST_SCHEDULE = timedelta(days=365)


@dataclass(frozen=True)
class Confirmation:
    """What confirming did: ``action`` is done (now or before, ``already_done``)."""

    action: PendingAction
    already_done: bool = False


def reference_generate() -> str:
    return "FT-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


def daily_limit_remaining(*, customer_id: int, day: date, excluding: int | None = None) -> Decimal:
    """What is left of the customer's daily limit on ``day`` for payments and transfers."""
    done = PendingAction.objects.filter(
        customer_id=customer_id,
        kind__in=PendingAction.MONEY_KINDS,
        status__in=PendingAction.DONE,
        effective_on=day,
    ).exclude(pk=excluding)
    moved = done.aggregate(total=Sum("amount"))["total"] or Decimal("0")
    return Decimal(settings.BANK_DAILY_TRANSFER_LIMIT) - moved


def _check_card(kind: str, card: CreditCard) -> None:
    if card.is_closed:
        raise ActionRefused("card_closed", {"status": card.status})
    if kind == Kind.FREEZE_CARD and card.status == CreditCard.Status.FROZEN:
        raise ActionRefused("card_already_frozen")
    if kind == Kind.UNFREEZE_CARD and card.status != CreditCard.Status.FROZEN:
        raise ActionRefused("card_not_frozen")


def _check_money(action: PendingAction, *, today: date) -> None:
    source, amount = action.from_account, action.amount
    if amount is None or amount <= 0:
        raise ActionRefused("no_amount")
    destination_currency = (action.card or action.to_account).currency
    if source.currency != destination_currency:
        raise ActionRefused("currency_mismatch")
    currency = source.currency
    if action.kind == Kind.TRANSFER and action.from_account_id == action.to_account_id:
        raise ActionRefused("same_account")
    if action.kind == Kind.CARD_PAYMENT and amount > action.card.current_balance:
        raise ActionRefused(
            "more_than_owed", {"owed": action.card.current_balance, "currency": currency}
        )
    if not today <= action.effective_on <= today + _LONGEST_SCHEDULE:
        raise ActionRefused("date_out_of_range")
    if amount > source.balance:
        raise ActionRefused(
            "insufficient_funds", {"available": source.balance, "currency": currency}
        )
    remaining = daily_limit_remaining(
        customer_id=action.customer_id, day=action.effective_on, excluding=action.pk
    )
    if amount > remaining:
        left = max(remaining, Decimal("0"))
        raise ActionRefused("daily_limit", {"remaining": left, "currency": currency})


def _check(action: PendingAction, *, today: date) -> None:
    owned = {
        item.customer_id for item in (action.card, action.from_account, action.to_account) if item
    }
    if owned - {action.customer_id}:
        raise ActionRefused("not_yours")
    if action.kind in CARD_KINDS:
        _check_card(action.kind, action.card)
    else:
        _check_money(action, today=today)


@transaction.atomic
def pending_action_request(
    *,
    session: CallerSession,
    customer: Customer,
    kind: str,
    summary: str,
    turn: int,
    card: CreditCard | None = None,
    from_account: Account | None = None,
    to_account: Account | None = None,
    amount: Decimal | None = None,
    effective_on: date | None = None,
    now: datetime,
) -> PendingAction:
    """Record what the caller asked for, to be done only once they confirm it.

    Raises ``ActionRefused`` when it could not be done as asked. Any action still waiting
    in this conversation is cancelled: only the latest request can be confirmed.
    """
    action = PendingAction(
        session=session,
        customer=customer,
        kind=kind,
        card=card,
        from_account=from_account,
        to_account=to_account,
        amount=amount,
        currency=(from_account or card).currency,
        effective_on=effective_on,
        summary=summary[:300],
        requested_in_turn=turn,
        reference=reference_generate(),
        expires_at=now + timedelta(seconds=settings.BANK_CONFIRMATION_TTL_SECONDS),
    )
    _check(action, today=timezone.localdate(now))
    CallerSession.objects.select_for_update().filter(pk=session.pk).first()
    session.actions.filter(status=Status.PENDING).update(status=Status.CANCELLED, decided_at=now)
    action.save()
    return action


def pending_action_readback_delivered(*, action_id: int, turn: int, now: datetime) -> bool:
    """Record that the answer to the caller's ``turn`` read the action back and finished.

    Only a still pending action is marked; False when it was not (it was replaced,
    cancelled or done meanwhile). Reading it back again later moves the turn on.
    """
    updated = PendingAction.objects.filter(pk=action_id, status=Status.PENDING).update(
        readback_turn=turn, readback_delivered_at=now
    )
    return updated == 1


def pending_action_confirm(
    *, session_id: int, customer_id: int, turn: int, now: datetime
) -> Confirmation:
    """Do the conversation's pending action, once.

    Confirming again finds it done and returns it (``already_done``) without doing it
    twice. Raises ``ActionRefused`` when there is nothing to confirm, when the "yes" comes
    in the same turn as the request, when it expired, when ``turn`` is not the one right
    after the answer that read the action back (``not_read_back``, with the action's
    ``action_id``, ``summary`` and ``reference``, so it can be read back again), or when
    the checks fail now (the action is then closed as refused: the caller has to ask again).
    """
    with transaction.atomic():
        outcome = _confirm(session_id=session_id, customer_id=customer_id, turn=turn, now=now)
    # Raised after the commit, so that an expired or refused action stays closed.
    if isinstance(outcome, ActionRefused):
        raise outcome
    return outcome


def _confirm(
    *, session_id: int, customer_id: int, turn: int, now: datetime
) -> Confirmation | ActionRefused:
    session = CallerSession.objects.select_for_update().get(pk=session_id)
    actions = session.actions.select_related("card", "from_account", "to_account")
    action = actions.filter(status=Status.PENDING).first()
    if action is None:
        latest = actions.first()
        if latest and latest.status in PendingAction.DONE and latest.customer_id == customer_id:
            return Confirmation(action=latest, already_done=True)
        return ActionRefused("nothing_pending")
    if action.customer_id != customer_id:
        return ActionRefused("nothing_pending")
    if turn <= action.requested_in_turn:
        return ActionRefused("same_turn")
    if now >= action.expires_at:
        _close(action, Status.EXPIRED, now=now)
        return ActionRefused("expired")
    heard_in = action.readback_turn
    if heard_in is not None and turn <= heard_in:
        return ActionRefused("same_turn")
    if heard_in is None or turn != heard_in + 1:
        # Never heard whole, or heard before something else was said: read it again.
        details = {"action_id": action.pk, "summary": action.summary, "reference": action.reference}
        return ActionRefused("not_read_back", details)
    today = timezone.localdate(now)
    Customer.objects.select_for_update().filter(pk=customer_id).first()
    _lock_rows(action)
    try:
        _check(action, today=today)
    except ActionRefused as refusal:
        _close(action, Status.REFUSED, now=now)
        return refusal
    _execute(action, today=today)
    action.reference = action.reference or reference_generate()
    later = action.effective_on is not None and action.effective_on > today
    _close(action, Status.SCHEDULED if later else Status.COMPLETED, now=now)
    return Confirmation(action=action)


def _close(action: PendingAction, status: str, *, now: datetime) -> None:
    action.status, action.decided_at = status, now
    action.save(update_fields=["status", "decided_at", "reference"])


def _lock_rows(action: PendingAction) -> None:
    """Re-read the card and accounts under lock, in a fixed order (by table, then id)."""
    if action.card_id:
        action.card = CreditCard.objects.select_for_update().get(pk=action.card_id)
    ids = sorted(pk for pk in (action.from_account_id, action.to_account_id) if pk)
    rows = Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    locked = {account.pk: account for account in rows}
    if action.from_account_id:
        action.from_account = locked[action.from_account_id]
    if action.to_account_id:
        action.to_account = locked[action.to_account_id]


def _execute(action: PendingAction, *, today: date) -> None:
    card_status = {
        Kind.FREEZE_CARD: CreditCard.Status.FROZEN,
        Kind.UNFREEZE_CARD: CreditCard.Status.ACTIVE,
        Kind.REPORT_CARD_LOST: CreditCard.Status.LOST,
        Kind.REPORT_CARD_STOLEN: CreditCard.Status.STOLEN,
    }
    if action.kind in card_status:
        action.card.status = card_status[action.kind]
        action.card.save(update_fields=["status"])
    elif action.effective_on <= today:
        _move_money(action, today=today)


def _move_money(action: PendingAction, *, today: date) -> None:
    amount, source = action.amount, action.from_account
    source.balance -= amount
    source.save(update_fields=["balance"])
    entries = [
        Transaction(
            customer_id=action.customer_id,
            account=source,
            posted_on=today,
            description=(
                f"Payment to {action.card}" if action.card else f"Transfer to {action.to_account}"
            ),
            category="payment" if action.card else "transfer",
            amount=-amount,
            currency=action.currency,
            action=action,
        )
    ]
    if action.card:
        card = action.card
        card.current_balance -= amount
        card.statement_balance = max(card.statement_balance - amount, Decimal("0"))
        card.minimum_payment = max(card.minimum_payment - amount, Decimal("0"))
        card.save(update_fields=["current_balance", "statement_balance", "minimum_payment"])
        entries.append(
            Transaction(
                customer_id=action.customer_id,
                card=card,
                posted_on=today,
                description=f"Payment from {source}",
                category="payment",
                amount=amount,
                currency=action.currency,
                action=action,
            )
        )
    else:
        destination = action.to_account
        destination.balance += amount
        destination.save(update_fields=["balance"])
        entries.append(
            Transaction(
                customer_id=action.customer_id,
                account=destination,
                posted_on=today,
                description=f"Transfer from {source}",
                category="transfer",
                amount=amount,
                currency=action.currency,
                action=action,
            )
        )
    Transaction.objects.bulk_create(entries)


@transaction.atomic
def pending_action_cancel(*, session_id: int, now: datetime) -> PendingAction | None:
    """Cancel the conversation's pending action; None when nothing was waiting."""
    waiting = PendingAction.objects.select_for_update().filter(
        session_id=session_id, status=Status.PENDING
    )
    action = waiting.first()
    if action is not None:
        _close(action, Status.CANCELLED, now=now)
    return action


def scheduled_payments_post(*, today: date) -> list[PendingAction]:
    """Make the scheduled card payments that fall due by ``today``; return those made.

    A payment the account can no longer cover is closed as refused. Each payment is its own
    transaction, locked like a confirmation, so a second run (or two at once) pays nothing
    twice.
    """
    made = []
    due = PendingAction.objects.filter(status=Status.SCHEDULED, effective_on__lte=today)
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            action = PendingAction.objects.select_for_update().get(pk=pk)
            if action.status != Status.SCHEDULED:
                continue
            Customer.objects.select_for_update().filter(pk=action.customer_id).first()
            _lock_rows(action)
            covered = action.amount <= min(action.from_account.balance, action.card.current_balance)
            if not covered:
                _close(action, Status.REFUSED, now=timezone.now())
                continue
            _move_money(action, today=today)
            _close(action, Status.COMPLETED, now=timezone.now())
            made.append(action)
    return made
