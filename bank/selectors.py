"""Reads of the bank's data, for the agent's tools (async: they run on the event loop)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, Sum

from bank.models import (
    Account,
    CallerSession,
    CreditCard,
    CreditProfile,
    Customer,
    LoanProduct,
    PendingAction,
    Transaction,
    VerificationLock,
)


async def customer_get_by_phone(*, phone: str) -> Customer | None:
    """The customer whose phone is ``phone``, which must already be E.164 (see phones)."""
    return await Customer.objects.filter(phone=phone).afirst()


async def customer_get(*, customer_id: int) -> Customer | None:
    return await Customer.objects.filter(pk=customer_id).afirst()


async def account_list(*, customer_id: int) -> list[Account]:
    return [account async for account in Account.objects.filter(customer_id=customer_id)]


async def credit_card_list(*, customer_id: int) -> list[CreditCard]:
    return [card async for card in CreditCard.objects.filter(customer_id=customer_id)]


async def credit_profile_get(*, customer_id: int) -> CreditProfile | None:
    return await CreditProfile.objects.filter(customer_id=customer_id).afirst()


async def loan_product_list() -> list[LoanProduct]:
    """The loan products currently offered."""
    return [product async for product in LoanProduct.objects.filter(active=True)]


async def caller_session_get(*, api_key_id: int, conversation_key: str) -> CallerSession | None:
    """The conversation's server-side state, with its verified customer, if it has any yet."""
    sessions = CallerSession.objects.select_related("customer")
    return await sessions.filter(api_key_id=api_key_id, conversation_key=conversation_key).afirst()


async def pending_action_get(*, session_id: int, customer_id: int) -> PendingAction | None:
    """The conversation's action waiting for the caller's yes, if it is this customer's."""
    waiting = PendingAction.objects.filter(
        session_id=session_id, customer_id=customer_id, status=PendingAction.Status.PENDING
    )
    return await waiting.afirst()


async def verification_locked(*, phone: str, now) -> bool:
    """Whether nobody may verify as ``phone`` now (see ``VerificationLock``)."""
    locks = VerificationLock.objects.filter(phone=phone, lifted_at__isnull=True, locked_until__gt=now)
    return await locks.aexists()


async def transaction_merchant_list(*, customer_id: int) -> list[str]:
    """The merchants and categories in the customer's transactions, for matching a name."""
    rows = Transaction.objects.filter(customer_id=customer_id)
    merchants = {name async for name in rows.values_list("merchant", flat=True).distinct() if name}
    categories = {name async for name in rows.values_list("category", flat=True).distinct() if name}
    return sorted(merchants | categories)


@dataclass(frozen=True)
class TransactionPage:
    """The newest matching transactions, and the count and sums of all that match."""

    rows: list[Transaction]
    count: int
    spent: Decimal
    received: Decimal


async def transaction_search(
    *,
    customer_id: int,
    names: list[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    min_amount: Decimal | None = None,
    max_amount: Decimal | None = None,
    account_ids: list[int] | None = None,
    card_ids: list[int] | None = None,
    limit: int = 5,
) -> TransactionPage:
    """The customer's transactions, newest first, filtered by all that is given.

    ``names`` match merchants or categories exactly (see ``transaction_merchant_list``);
    amounts compare the size of a transaction, whichever way the money went; accounts and
    cards together mean "on any of these".
    """
    query = Transaction.objects.filter(customer_id=customer_id).select_related("account", "card")
    if names:
        query = query.filter(Q(merchant__in=names) | Q(category__in=names))
    if start:
        query = query.filter(posted_on__gte=start)
    if end:
        query = query.filter(posted_on__lte=end)
    if min_amount is not None:
        query = query.filter(Q(amount__gte=min_amount) | Q(amount__lte=-min_amount))
    if max_amount is not None:
        query = query.filter(amount__gte=-max_amount, amount__lte=max_amount)
    if account_ids is not None or card_ids is not None:
        query = query.filter(Q(account_id__in=account_ids or []) | Q(card_id__in=card_ids or []))
    totals = await query.aaggregate(
        count=Count("id"),
        spent=Sum("amount", filter=Q(amount__lt=0)),
        received=Sum("amount", filter=Q(amount__gt=0)),
    )
    rows = [row async for row in query[:limit]]
    return TransactionPage(
        rows=rows,
        count=totals["count"],
        spent=-(totals["spent"] or Decimal("0")),
        received=totals["received"] or Decimal("0"),
    )
