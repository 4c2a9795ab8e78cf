"""Verifying a caller whose number is only a claim, and handing the caller to a human.

A detail counts only when the caller said it: the tool reads the caller's own messages of
this conversation (``language.said_details``: spoken digits, dates in words) and refuses
any detail the model supplied that is not among them — as a failed attempt, so a lying
model burns the caller's tries instead of guessing for free. Failures lock the
conversation and, across conversations and API keys, the claimed number
(``bank.services.sessions``).
"""

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone

from agents import language, phrases
from agents.caller import CallerContext
from agents.phrases import ASK_VERIFICATION
from agents.tools.base import (
    CANNOT_VERIFY_HERE,
    NO_CUSTOMER,
    Refused,
    as_date,
    bank_tool,
    last4_of,
    locked_text,
)
from bank.services.sessions import caller_session_handoff_request, caller_verify

NOT_SAID = (
    "I can only check details you tell me yourself, and I didn't hear those from you, so "
    "that counts as a failed try."
)


@bank_tool
async def verify_identity(
    caller: CallerContext,
    card_last4: str | None = None,
    date_of_birth: str | None = None,
    postal_code: str | None = None,
) -> str:
    """Verify the caller's identity for this conversation, when they are not yet verified:
    the last four digits of one of their cards, plus their date of birth or ZIP/postal
    code. The phone number is the one the caller gave; never ask the tool to check anyone
    else's.

    Args:
        card_last4: Last four digits of one of the caller's credit cards.
        date_of_birth: The caller's date of birth, YYYY-MM-DD.
        postal_code: The caller's ZIP or postal code.
    """
    if caller.asserted:
        customer = await caller.verified_customer()
        if customer is None:
            raise Refused(NO_CUSTOMER)
        return "You're calling from your registered number, so you're already verified."
    if caller.conversation is None:
        raise Refused(CANNOT_VERIFY_HERE)
    if not caller.phone:
        return "To verify you, please tell me the phone number registered with us first."
    session = await caller.session()
    if session is not None and session.locked_at is not None:
        raise Refused(locked_text())
    last4, born = last4_of(card_last4), as_date(date_of_birth, past=True)
    postal = (postal_code or "").strip() or None
    if born is not None and born >= timezone.localdate():
        born = None
    if last4 is None or (born is None and postal is None):
        return f"To verify you I need {ASK_VERIFICATION}."
    said = language.said_details(caller.user_texts, today=timezone.localdate())
    said_by_caller = (
        said.has_last4(last4)
        and (born is None or said.has_birth_date(born))
        and (postal is None or said.has_postal_code(postal))
    )
    outcome = await sync_to_async(caller_verify)(
        api_key_id=caller.conversation.api_key_id,
        conversation_key=caller.conversation.key,
        phone=caller.phone,
        card_last4=last4,
        date_of_birth=born,
        postal_code=postal,
        now=timezone.now(),
        said_by_caller=said_by_caller,
    )
    caller.forget()
    if outcome.verified:
        caller.remember(outcome.customer)
        return phrases.verified(outcome.customer.first_name)
    if outcome.locked:
        raise Refused(locked_text())
    tries = f"{outcome.attempts_left} more tr{'y' if outcome.attempts_left == 1 else 'ies'}"
    why = NOT_SAID if not said_by_caller else "Sorry, those details don't match our records."
    raise Refused(f"{why} You have {tries}: please tell me {ASK_VERIFICATION}.")


@bank_tool
async def transfer_to_human(caller: CallerContext, reason: str | None = None) -> str:
    """Hand the conversation to a human colleague, when the caller asks for a person or the
    assistant cannot help.

    Args:
        reason: Optional short note for the colleague on what the caller needs.
    """
    if caller.conversation is not None:
        await sync_to_async(caller_session_handoff_request)(
            api_key_id=caller.conversation.api_key_id,
            conversation_key=caller.conversation.key,
            now=timezone.now(),
        )
    return (
        f"Of course. I'm passing you to a colleague now; if we get cut off, call us on "
        f"{settings.BANK_SUPPORT_PHONE}, any time of day."
    )
