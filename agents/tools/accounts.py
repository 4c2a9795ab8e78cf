"""Deposit accounts: balances and the transactions on accounts and cards."""

from datetime import date

from django.utils import timezone

from agents.caller import CallerContext
from agents.language import mentions
from agents.formatting import day, money, spoken_list
from agents.tools.base import as_amount, as_date, bank_tool, customer_or_refuse, last4_of
from bank.models import Transaction
from bank.selectors import (
    account_list,
    credit_card_list,
    transaction_merchant_list,
    transaction_search,
)

_LISTED = 5


@bank_tool
async def get_account_balances(caller: CallerContext, account_type: str | None = None) -> str:
    """Get the balances of the caller's own bank accounts.

    Args:
        account_type: Optional: "checking" or "savings" to give just that kind of account.
            Omit it for all accounts.
    """
    customer = await customer_or_refuse(caller)
    accounts = await account_list(customer_id=customer.pk)
    if account_type:
        wanted = account_type.strip().lower()
        accounts = [a for a in accounts if a.kind == wanted] or accounts
    if not accounts:
        return "You don't have any deposit accounts with us."
    parts = [
        f"your {a.nickname} ending {a.last4} has {money(a.balance, a.currency)}" for a in accounts
    ]
    text = spoken_list(parts)
    return text[0].upper() + text[1:] + "."


def _matching_names(wanted: str, known: list[str]) -> list[str]:
    """The customer's merchants or categories that ``wanted`` names: "amazon" finds
    "Amazon", "whole foods" "Whole Foods", "amazn" "Amazon", "grocery" "groceries"."""
    wanted = wanted.strip().lower()
    found = [name for name in known if wanted in name.lower() or name.lower() in wanted]
    return found or [name for name in known if mentions(wanted, name) or mentions(name, wanted)]


def _when(start: date | None, end: date | None) -> str:
    if start and end:
        return f" on {day(start)}" if start == end else f" between {day(start)} and {day(end)}"
    if start:
        return f" since {day(start)}"
    return f" until {day(end)}" if end else ""


def _entry(row: Transaction, today: date) -> str:
    when = f"{row.posted_on:%B} {row.posted_on.day}" + (
        "" if row.posted_on.year == today.year else f", {row.posted_on.year}"
    )
    where = row.card or row.account
    size = money(abs(row.amount), row.currency)
    if row.amount < 0:
        return f"{when}, {row.description}, {size} on your {where}"
    return f"{when}, {row.description}, {size} credited to your {where}"


@bank_tool
async def find_transactions(
    caller: CallerContext,
    merchant: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    min_amount: float | None = None,
    max_amount: float | None = None,
    account: str | None = None,
) -> str:
    """Find the caller's transactions on their accounts and credit cards, newest first,
    with how much they spent in total. With no arguments: the most recent transactions.

    Args:
        merchant: Optional merchant or spending category, e.g. "Amazon", "Whole Foods",
            "groceries".
        start_date: Optional first day to include, YYYY-MM-DD.
        end_date: Optional last day to include, YYYY-MM-DD.
        min_amount: Optional smallest transaction size to include.
        max_amount: Optional largest transaction size to include.
        account: Optional "checking", "savings", "card", or the last four digits of one of
            the caller's accounts or cards.
    """
    customer = await customer_or_refuse(caller)
    start, end = as_date(start_date, past=True), as_date(end_date, past=True)
    if start and end and start > end:
        start, end = end, start
    names = None
    if merchant and merchant.strip():
        names = _matching_names(merchant, await transaction_merchant_list(customer_id=customer.pk))
        if not names:
            return f"I don't see any transactions at {merchant.strip()}{_when(start, end)}."
    account_ids = card_ids = None
    if account and account.strip():
        account_ids, card_ids = await _instruments(customer.pk, account)
    page = await transaction_search(
        customer_id=customer.pk,
        names=names,
        start=start,
        end=end,
        min_amount=as_amount(min_amount),
        max_amount=as_amount(max_amount),
        account_ids=account_ids,
        card_ids=card_ids,
        limit=_LISTED,
    )
    at = f" at {spoken_list(names[:3])}" if names else ""
    if not page.count:
        return f"I don't see any transactions{at}{_when(start, end)}."
    today = timezone.localdate()
    filtered = any((names, start, end, min_amount, max_amount, account))
    if not filtered:
        listed = "; ".join(_entry(row, today) for row in page.rows)
        return f"Your {len(page.rows)} most recent transactions: {listed}."
    currency = page.rows[0].currency
    count = f"{page.count} transaction" + ("s" if page.count != 1 else "")
    shown = "" if page.count <= _LISTED else f" The latest {_LISTED}:"
    listed = "; ".join(_entry(row, today) for row in page.rows)
    totals = []
    if page.spent:
        totals.append(f"you spent {money(page.spent, currency)}")
    if page.received:
        totals.append(f"you received {money(page.received, currency)}")
    total = f" In total {spoken_list(totals)}." if totals else ""
    return f"I found {count}{at}{_when(start, end)}.{shown} {listed}.{total}"


async def _instruments(customer_id: int, account: str) -> tuple[list[int], list[int]]:
    accounts = await account_list(customer_id=customer_id)
    cards = await credit_card_list(customer_id=customer_id)
    wanted = account.strip().lower()
    if last4 := last4_of(wanted):
        return [a.pk for a in accounts if a.last4 == last4], [
            c.pk for c in cards if c.last4 == last4
        ]
    if mentions(wanted, "card", "credit", "visa", "mastercard"):
        return [], [c.pk for c in cards]
    kinds = [a.pk for a in accounts if mentions(wanted, a.kind, a.nickname)]
    return kinds, []
