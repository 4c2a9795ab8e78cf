"""The bank's tools, as the model sees them.

A tool's signature and docstring are its prompt. The caller is bound to each tool per
request (``tools_for``) outside the model's reach: the model can choose *which* tool to
call and with which arguments, never *whose* data it touches.
"""

from collections.abc import Awaitable, Callable
from functools import partial

from llama_index.core.tools import FunctionTool, ToolMetadata

from agents.caller import CallerContext
from agents.speech import day, money, percent, spoken_list
from bank.models import Customer
from bank.selectors import account_list, credit_card_list, loan_product_list

NOT_IDENTIFIED = (
    "I can't see who is calling, so I can't share account details. Please call from the "
    "phone number registered with the bank, or use the bank's app."
)
NOT_VERIFIED = (
    "For your security I need to verify your identity before I can share account details, "
    "and I can't verify a phone number given in the conversation yet. Please call from the "
    "phone number registered with the bank, or use the bank's app."
)
NO_CUSTOMER = "I couldn't find an account registered to the number you're calling from."


async def _customer_or_refusal(caller: CallerContext) -> Customer | str:
    if not caller.phone:
        return NOT_IDENTIFIED
    if not caller.asserted:
        return NOT_VERIFIED
    customer = await caller.verified_customer()
    return customer if customer is not None else NO_CUSTOMER


async def list_loan_products(caller: CallerContext, kind: str | None = None) -> str:
    """List the bank's loan products with their APR range, amounts and terms.

    Args:
        kind: Optional product family to list: personal, auto, home, home_equity or
            student. Omit it to list every product.
    """
    products = await loan_product_list()
    if kind:
        wanted = kind.strip().lower().replace(" ", "_")
        products = [p for p in products if p.kind == wanted] or products
    if not products:
        return "The bank has no loan products on offer right now."
    lines = [
        f"{p.name}: {percent(p.apr_from)} to {percent(p.apr_to)} APR, "
        f"{money(p.min_amount, cents=False)} to {money(p.max_amount, cents=False)}, "
        f"{_terms(p.min_term_months, p.max_term_months)}."
        for p in products
    ]
    return "We offer: " + " ".join(lines)


def _terms(shortest: int, longest: int) -> str:
    if shortest == longest:
        return f"a {_term(shortest, unit_only=True)} term"
    return f"terms of {_term(shortest)} to {_term(longest)}"


def _term(months: int, *, unit_only: bool = False) -> str:
    if months % 12 == 0:
        years = months // 12
        return f"{years}-year" if unit_only else f"{years} year" + ("s" if years != 1 else "")
    return f"{months}-month" if unit_only else f"{months} months"


async def get_account_balances(caller: CallerContext, account_type: str | None = None) -> str:
    """Get the balances of the caller's own bank accounts.

    Args:
        account_type: Optional: "checking" or "savings" to give just that kind of account.
            Omit it for all accounts.
    """
    customer = await _customer_or_refusal(caller)
    if isinstance(customer, str):
        return customer
    accounts = await account_list(customer_id=customer.pk)
    if account_type:
        wanted = account_type.strip().lower()
        accounts = [a for a in accounts if a.kind == wanted] or accounts
    if not accounts:
        return "You don't have any deposit accounts with us."
    parts = [
        f"your {a.nickname} ending {a.last4} has {money(a.balance, a.currency)}"
        for a in accounts
    ]
    return spoken_list(parts).capitalize() + "."


async def get_credit_card_summary(caller: CallerContext, card_last4: str | None = None) -> str:
    """Get the caller's credit card details: current balance, available credit, statement
    balance, minimum payment, payment due date and card status.

    Args:
        card_last4: Optional last four digits of one card, when the caller names one.
            Omit it to describe all of the caller's cards.
    """
    customer = await _customer_or_refusal(caller)
    if isinstance(customer, str):
        return customer
    cards = await credit_card_list(customer_id=customer.pk)
    if not cards:
        return "You don't have a credit card with us."
    if card_last4:
        named = [c for c in cards if c.last4 == card_last4.strip()[-4:]]
        if not named:
            endings = spoken_list([c.last4 for c in cards])
            return f"I don't see a card ending {card_last4} on your profile; your cards end in {endings}."
        cards = named
    sentences = []
    for card in cards:
        status = "" if card.status == "active" else f" The card is {card.status}."
        sentences.append(
            f"Your {card.brand} ending {card.last4} has a balance of "
            f"{money(card.current_balance, card.currency)} with "
            f"{money(card.available_credit, card.currency)} available. The statement balance is "
            f"{money(card.statement_balance, card.currency)} and the minimum payment of "
            f"{money(card.minimum_payment, card.currency)} is due on "
            f"{day(card.payment_due_date)}.{status}"
        )
    return " ".join(sentences)


BankTool = Callable[..., Awaitable[str]]
BANK_TOOLS: tuple[BankTool, ...] = (
    list_loan_products,
    get_account_balances,
    get_credit_card_summary,
)


def _metadata(fn: BankTool) -> ToolMetadata:
    # The schema is derived once, without the bound caller, so per-request binding is cheap.
    return FunctionTool.from_defaults(async_fn=fn, partial_params={"caller": None}).metadata


_METADATA = {fn: _metadata(fn) for fn in BANK_TOOLS}
BANK_TOOL_NAMES = frozenset(meta.get_name() for meta in _METADATA.values())


def tools_for(caller: CallerContext) -> list[FunctionTool]:
    """The bank's tools bound to one caller."""
    return [FunctionTool(async_fn=partial(fn, caller), metadata=_METADATA[fn]) for fn in BANK_TOOLS]
