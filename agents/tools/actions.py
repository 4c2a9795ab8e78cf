"""Asking for an action, and confirming or cancelling it in a later message.

Nothing that moves money or changes a card happens in the turn that asks for it: the tool
records a pending action, and Fintalk's code — not the model — reads it back to the caller
at the end of that answer (``agents.readbacks``). ``confirm_pending_action`` does it only
when the caller says yes in their next message after that answer finished — which the
code checks, not the model.
"""

from datetime import date, timedelta
from decimal import Decimal

from asgiref.sync import sync_to_async
from django.utils import timezone

from agents import language, phrases
from agents.caller import CallerContext
from agents.readbacks import readback_due, readback_withdrawn
from agents.formatting import day, money
from agents.tools.base import Refused, bank_tool, customer_or_refuse
from bank.errors import ActionRefused
from bank.models import Account, CreditCard, Customer, PendingAction
from bank.services.actions import (
    Confirmation,
    pending_action_cancel,
    pending_action_confirm,
    pending_action_request,
)
from bank.selectors import pending_action_get
from bank.services.sessions import caller_session_get_or_create

Kind = PendingAction.Kind
CANNOT_CONFIRM_HERE = (
    "I can't take instructions in this chat because it has no conversation id to confirm "
    "them in. Please use the bank's app."
)
NEED_YES = "I'll only do that once you clearly say yes in your reply."
REPLACEMENT_DAYS = 7


def refusal_text(refusal: ActionRefused) -> str:
    details = refusal.details
    currency = details.get("currency", "USD")
    texts = {
        "card_closed": "That card was reported lost or stolen and is blocked for good; its "
        "replacement is on the way.",
        "card_already_frozen": "That card is already frozen.",
        "card_not_frozen": "That card isn't frozen, so there's nothing to unfreeze.",
        "no_amount": "Tell me how much you'd like to move.",
        "currency_mismatch": "Those are in different currencies, so I can't move money "
        "between them here.",
        "same_account": "That's the same account twice; tell me the account to move money "
        "from and the one to move it to.",
        "more_than_owed": "That's more than the card's balance of "
        f"{money(details.get('owed', Decimal(0)), currency)}.",
        "date_out_of_range": "I can make a payment today or schedule one within the next year.",
        "insufficient_funds": "There isn't enough money in that account for this: "
        f"{money(details.get('available', Decimal(0)), currency)} is available.",
        "daily_limit": "That would go over your daily limit for payments and transfers; you "
        f"can move up to {money(details.get('remaining', Decimal(0)), currency)} more that day.",
        "nothing_pending": "There's nothing waiting for your confirmation, so nothing has changed.",
        "same_turn": "I'll only do that once you confirm in your next message.",
        "expired": "That request expired before it was confirmed, so I haven't done it. "
        "Please ask again.",
        "not_yours": "I can only act on your own accounts and cards.",
        "not_read_back": "I haven't done anything yet: I only go ahead once you've heard "
        "exactly what I'll do and said yes to it in your next reply.",
    }
    return texts.get(refusal.reason, "I can't do that.")


def describe(
    kind: str,
    *,
    card: CreditCard | None = None,
    from_account: Account | None = None,
    to_account: Account | None = None,
    amount: Decimal | None = None,
    effective_on: date | None = None,
    note: str = "",
    today: date,
) -> str:
    """What will be done, as the caller hears it: "freeze your Visa ending 4567"."""
    if kind in (Kind.FREEZE_CARD, Kind.UNFREEZE_CARD):
        return f"{'freeze' if kind == Kind.FREEZE_CARD else 'unfreeze'} your {card}"
    if kind in (Kind.REPORT_CARD_LOST, Kind.REPORT_CARD_STOLEN):
        how = "lost" if kind == Kind.REPORT_CARD_LOST else "stolen"
        return (
            f"report your {card} {how}, block it for good, and send you a replacement card "
            "with a new number"
        )
    when = "today" if not effective_on or effective_on <= today else f"on {day(effective_on)}"
    size = money(amount, from_account.currency) + (f" ({note})" if note else "")
    if kind == Kind.CARD_PAYMENT:
        return f"pay {size} to your {card} from your {from_account} {when}"
    return f"move {size} from your {from_account} to your {to_account} {when}"


def done_text(confirmation: Confirmation) -> str:
    """What was done, with its reference number."""
    action = confirmation.action
    size = money(action.amount, action.currency) if action.amount else ""
    if action.kind == Kind.FREEZE_CARD:
        done = f"Your {action.card} is now frozen; ask me any time to unfreeze it."
    elif action.kind == Kind.UNFREEZE_CARD:
        done = f"Your {action.card} is unfrozen and ready to use."
    elif action.kind in (Kind.REPORT_CARD_LOST, Kind.REPORT_CARD_STOLEN):
        arrives = timezone.localdate(action.decided_at) + timedelta(days=REPLACEMENT_DAYS)
        done = (
            f"Your {action.card} is blocked, and a replacement card with a new number is on "
            f"its way; it should arrive by {day(arrives)}."
        )
    elif action.kind == Kind.TRANSFER:
        done = f"I've moved {size} from your {action.from_account} to your {action.to_account}."
    elif action.status == PendingAction.Status.SCHEDULED:
        done = (
            f"Your payment of {size} to your {action.card} from your {action.from_account} is "
            f"scheduled for {day(action.effective_on)}."
        )
    else:
        done = f"I've paid {size} to your {action.card} from your {action.from_account}."
    if confirmation.already_done:
        done = f"That was already done, so I haven't done it again. {done}"
    return phrases.done(done, reference=action.reference)


async def request_action(caller: CallerContext, customer: Customer, **fields) -> str:
    """Record a pending action for the caller; Fintalk reads it back at the end of the answer.
    The model is told what the caller will hear, and not to repeat it."""
    if caller.conversation is None:
        raise Refused(CANNOT_CONFIRM_HERE)
    now = timezone.now()
    summary = describe(**fields, today=timezone.localdate(now))
    fields.pop("note", None)

    def record():
        session = caller_session_get_or_create(
            api_key_id=caller.conversation.api_key_id, conversation_key=caller.conversation.key
        )
        return pending_action_request(
            session=session, customer=customer, summary=summary, turn=caller.turn, now=now, **fields
        )

    try:
        action = await sync_to_async(record)()
    except ActionRefused as refusal:
        raise Refused(refusal_text(refusal)) from None
    heard = readback_due(caller, action_id=action.pk, summary=summary, reference=action.reference)
    return phrases.readback_note(heard)


@bank_tool
async def confirm_pending_action(caller: CallerContext) -> str:
    """Carry out the payment, transfer or card change the caller asked for earlier in the
    conversation. Call it only when the caller's latest message clearly says yes to the
    question you read back; it does nothing otherwise, and never does anything twice."""
    customer = await customer_or_refuse(caller)
    session = await caller.session()
    if not language.is_affirmative(caller.latest_user_text):
        waiting = session and await pending_action_get(session_id=session.pk, customer_id=customer.pk)
        if waiting:  # read it again, so that a clear yes next can confirm it
            readback_due(
                caller, action_id=waiting.pk, summary=waiting.summary, reference=waiting.reference
            )
        raise Refused(NEED_YES)
    if session is None:
        raise Refused(refusal_text(ActionRefused("nothing_pending")))
    try:
        confirmation = await sync_to_async(pending_action_confirm)(
            session_id=session.pk, customer_id=customer.pk, turn=caller.turn, now=timezone.now()
        )
    except ActionRefused as refusal:
        if refusal.reason == "not_read_back":  # read it again; the next "yes" can confirm
            details = refusal.details
            readback_due(
                caller,
                action_id=details["action_id"],
                summary=details["summary"],
                reference=details["reference"],
            )
        raise Refused(refusal_text(refusal)) from None
    return done_text(confirmation)


@bank_tool
async def cancel_pending_action(caller: CallerContext) -> str:
    """Cancel the payment, transfer or card change waiting for the caller's confirmation,
    when they say no or change their mind."""
    await customer_or_refuse(caller)
    session = await caller.session()
    cancelled = None
    readback_withdrawn(caller)
    if session is not None:
        cancelled = await sync_to_async(pending_action_cancel)(
            session_id=session.pk, now=timezone.now()
        )
    if cancelled is None:
        return "There was nothing waiting for your confirmation, so nothing has changed."
    return "Okay, I've cancelled that; nothing was changed. What else can I help you with?"
