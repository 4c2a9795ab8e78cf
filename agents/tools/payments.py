"""Moving the caller's money: paying their credit card, transferring between their accounts."""

from django.utils import timezone

from agents.caller import CallerContext
from agents.language import mentions
from agents.formatting import money, spoken_list
from agents.tools.actions import request_action
from agents.tools.base import Refused, as_amount, as_date, bank_tool, customer_or_refuse, last4_of
from agents.tools.cards import named_card
from bank.models import Account, PendingAction
from bank.selectors import account_list, credit_card_list

Kind = PendingAction.Kind
OWN_ACCOUNTS_ONLY = "I can only move money between your own accounts"


def _account(accounts: list[Account], wanted: str | None) -> Account | None:
    """The caller's account named by kind, nickname or last four digits."""
    if not wanted or not wanted.strip():
        return None
    if last4 := last4_of(wanted):
        return next((a for a in accounts if a.last4 == last4), None)
    named = [a for a in accounts if mentions(wanted, a.kind, a.nickname)]
    return named[0] if len(named) == 1 else None


def _accounts_list(accounts: list[Account]) -> str:
    return spoken_list([f"your {account}" for account in accounts])


@bank_tool
async def pay_credit_card(
    caller: CallerContext,
    amount: float | None = None,
    pay_option: str | None = None,
    card_last4: str | None = None,
    from_account: str | None = None,
    pay_on: str | None = None,
) -> str:
    """Ask to pay the caller's credit card from one of their bank accounts, now or on a
    later date. Nothing is paid until the caller confirms in their next message.

    Args:
        amount: The amount to pay, when the caller names one.
        pay_option: Instead of an amount: "minimum" (the minimum payment), "statement" (the
            statement balance) or "full" (the whole current balance).
        card_last4: Last four digits of the card; may be omitted when the caller has one card.
        from_account: The account to pay from: "checking", "savings" or its last four
            digits. Omit it to pay from checking.
        pay_on: Optional day to make the payment, YYYY-MM-DD; omit it to pay today.
    """
    customer = await customer_or_refuse(caller)
    cards = await credit_card_list(customer_id=customer.pk)
    if not cards:
        return "You don't have a credit card with us."
    card = named_card(cards, card_last4)
    if isinstance(card, str):
        return card
    accounts = await account_list(customer_id=customer.pk)
    source = _account(accounts, from_account or "checking")
    if source is None:
        raise Refused(f"{OWN_ACCOUNTS_ONLY}: {_accounts_list(accounts)}.")
    options = {
        "minimum": (card.minimum_payment, "your minimum payment"),
        "statement": (card.statement_balance, "your statement balance"),
        "full": (card.current_balance, "your full balance"),
    }
    option = next((key for key in options if pay_option and mentions(pay_option, key)), None)
    size = as_amount(amount)  # the daily limit is the bank's check (it knows what is left)
    note = ""
    if size is None and option:
        size, note = options[option]
    if size is None or size <= 0:
        c = card.currency
        return (
            f"How much would you like to pay on your {card}: the minimum payment of "
            f"{money(card.minimum_payment, c)}, the statement balance of "
            f"{money(card.statement_balance, c)}, the full balance of "
            f"{money(card.current_balance, c)}, or another amount?"
        )
    day = as_date(pay_on) if pay_on else None
    if pay_on and day is None:
        return "Which day should I make the payment? For example, today or a date like December 1."
    return await request_action(
        caller,
        customer,
        kind=Kind.CARD_PAYMENT,
        card=card,
        from_account=source,
        amount=size,
        effective_on=day or timezone.localdate(),
        note=note,
    )


@bank_tool
async def transfer_between_accounts(
    caller: CallerContext,
    amount: float | None = None,
    from_account: str | None = None,
    to_account: str | None = None,
) -> str:
    """Ask to move money between two of the caller's own accounts (never to anyone else).
    Nothing moves until the caller confirms in their next message.

    Args:
        amount: The amount to move.
        from_account: The account to take it from: "checking", "savings" or last four digits.
        to_account: The account to put it in: "checking", "savings" or last four digits.
    """
    customer = await customer_or_refuse(caller)
    accounts = await account_list(customer_id=customer.pk)
    source, destination = _account(accounts, from_account), _account(accounts, to_account)
    named_elsewhere = [
        side
        for side, found in ((from_account, source), (to_account, destination))
        if side and not found
    ]
    if named_elsewhere:
        raise Refused(f"{OWN_ACCOUNTS_ONLY}: {_accounts_list(accounts)}.")
    if len(accounts) == 2:  # one side named: the other account is the other side
        first, second = accounts
        if source and not destination:
            destination = second if source == first else first
        elif destination and not source:
            source = second if destination == first else first
    if len(accounts) < 2:
        raise Refused(f"{OWN_ACCOUNTS_ONLY}, and you have one account with us.")
    if source is None or destination is None:
        return f"Which accounts should I move money between: {_accounts_list(accounts)}?"
    size = as_amount(amount)
    if size is None:
        return f"How much would you like to move from your {source} to your {destination}?"
    return await request_action(
        caller,
        customer,
        kind=Kind.TRANSFER,
        from_account=source,
        to_account=destination,
        amount=size,
        effective_on=timezone.localdate(),
    )
