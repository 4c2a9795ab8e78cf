"""What every bank tool shares: refusals, and the customer the request is bound to.

A refusal is raised, not returned: the agent hands its words to the model as the tool's
result *and* marks the call as an error, so every refused attempt (unverified caller, no
"yes", over the limit...) shows in the conversation log's tool calls, beside the words.
"""

import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils import timezone

from agents import language
from agents.caller import CallerContext
from agents.phrases import ASK_VERIFICATION, OFFER_HUMAN
from agents.formatting import money
from bank.models import Customer
from bank.selectors import verification_locked
from fintalk.masking import mask_card_numbers

logger = logging.getLogger(__name__)

NOT_IDENTIFIED = (
    "I can't see who is calling, so I can't share account details. Please call from the "
    "phone number registered with the bank, or use the bank's app."
)
CANNOT_VERIFY_HERE = (
    "For your security I need to verify your identity before I can share account details, "
    "and I can't do that in this chat. Please call from the phone number registered with "
    "the bank, or use the bank's app."
)
VERIFY_FIRST = (
    f"For your security I need to verify your identity first. Please tell me {ASK_VERIFICATION}."
)
VERIFY_FIRST_WITH_PHONE = (
    "For your security I need to verify your identity first. Please tell me the phone number "
    f"registered with us, {ASK_VERIFICATION}."
)
NO_CUSTOMER = "I couldn't find an account registered to the number you're calling from."
UNEXPECTED = "Sorry, something went wrong on our side and nothing was changed. Please try again."


def locked_text() -> str:
    return (
        "I couldn't verify your identity, so for your security I can't share account details "
        f"or make changes in this conversation. I can {OFFER_HUMAN} who can help, or you can "
        f"call us on {settings.BANK_SUPPORT_PHONE}."
    )


class Refused(Exception):
    """The tool declines; the message is what the caller is told."""


BankTool = Callable[..., Awaitable[str]]


def bank_tool(fn: BankTool) -> BankTool:
    """Turn failures into refusals the caller can hear: a bug is logged and spoken as a
    plain apology, never as a traceback or a database error. The result is shown to the
    model with card numbers masked (a merchant name in the data may carry one)."""

    @functools.wraps(fn)
    async def run(*args, **kwargs) -> str:
        try:
            return mask_card_numbers(await fn(*args, **kwargs))
        except Refused:
            raise
        except Exception as error:
            logger.exception("Tool %s failed", fn.__name__)
            raise Refused(UNEXPECTED) from error

    return run


async def customer_or_refuse(caller: CallerContext) -> Customer:
    """The customer this request may act for, or a refusal that says what is missing."""
    customer = await caller.verified_customer()
    if customer is not None:
        return customer
    if caller.asserted:
        raise Refused(NO_CUSTOMER)
    session = await caller.session()
    if session is not None and session.locked_at is not None:
        raise Refused(locked_text())
    if caller.phone and await verification_locked(phone=caller.phone, now=timezone.now()):
        raise Refused(locked_text())
    if caller.conversation is None:
        raise Refused(CANNOT_VERIFY_HERE if caller.phone else NOT_IDENTIFIED)
    raise Refused(VERIFY_FIRST if caller.phone else VERIFY_FIRST_WITH_PHONE)


_AMOUNT_REFUSALS = {
    "negative": "That amount is negative, and I only work with positive amounts",
    "zero": "That amount is zero",
    "not_finite": "That isn't a number I can use",
    "exponent": "That amount is written in a form I don't accept",
    "too_precise": "That amount has more than two decimal places",
    "too_large": "That amount is far too large",
    "not_a_number": "That isn't an amount I can read",
}
ASK_PLAIN_AMOUNT = "how much would you like, as a plain number such as 250 or 250.75?"


def as_amount(
    value: object,
    *,
    limit: Decimal | None = None,
    limit_is: str = "the limit",
    currency: str = "USD",
) -> Decimal | None:
    """An amount of money from a tool argument, strictly (``language.parse_amount_argument``):
    a number or a plain decimal string, positive, finite, at most two decimals, and at
    most ``limit`` (which is ``limit_is``) when given; None when the model left it out.

    Raises ``Refused`` with a message that says what was wrong and asks again: a model's
    "-$523.45" or "1e5" is never read as some other amount.
    """
    try:
        amount = language.parse_amount_argument(value)
    except language.AmountRefused as refused:
        raise Refused(f"{_AMOUNT_REFUSALS[refused.reason]}: {ASK_PLAIN_AMOUNT}") from None
    if amount is not None and limit is not None and amount > limit:
        raise Refused(
            f"That's more than {limit_is}, {money(limit, currency)}: please tell me a smaller "
            "amount."
        )
    return amount


def as_number(value: object) -> Decimal | None:
    """A plain finite number from a tool argument (a rate, not money), or None."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip().rstrip("%"))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def as_date(value: object, *, past: bool = False) -> date | None:
    """A day from a tool argument: ISO (what the offline model sends) or words."""
    if not value:
        return None
    text = str(value).strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        today = timezone.localdate()
        if past:
            found = language.parse_date_range(text, today=today)
            return found[0] if found else None
        return language.parse_date(text, today=today)


def last4_of(value: object) -> str | None:
    digits = "".join(ch for ch in str(value or "") if ch.isdigit())
    return digits[-4:] if len(digits) >= 4 else None
