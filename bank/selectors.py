"""Reads of the bank's data, for the agent's tools (async: they run on the event loop)."""

from bank.models import Account, CreditCard, Customer, LoanProduct


async def customer_get_by_phone(*, phone: str) -> Customer | None:
    """The customer whose phone is ``phone``, which must already be E.164 (see phones)."""
    return await Customer.objects.filter(phone=phone).afirst()


async def customer_get(*, customer_id: int) -> Customer | None:
    return await Customer.objects.filter(pk=customer_id).afirst()


async def account_list(*, customer_id: int) -> list[Account]:
    return [account async for account in Account.objects.filter(customer_id=customer_id)]


async def credit_card_list(*, customer_id: int) -> list[CreditCard]:
    return [card async for card in CreditCard.objects.filter(customer_id=customer_id)]


async def loan_product_list() -> list[LoanProduct]:
    """The loan products currently offered."""
    return [product async for product in LoanProduct.objects.filter(active=True)]
