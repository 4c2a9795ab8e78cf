"""A conversation's server-side state: verifying the caller, and asking for a human."""

import re
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import transaction

from bank.models import CallerSession, Customer, VerificationAttempt


@dataclass(frozen=True)
class VerificationOutcome:
    customer: Customer | None
    attempts_left: int
    locked: bool

    @property
    def verified(self) -> bool:
        return self.customer is not None


def caller_session_get_or_create(*, api_key_id: int, conversation_key: str) -> CallerSession:
    session, _ = CallerSession.objects.get_or_create(
        api_key_id=api_key_id, conversation_key=conversation_key
    )
    return session


def _postal(value: str) -> str:
    return re.sub(r"[\s-]", "", value).upper()


def _postal_matches(given: str, stored: str) -> bool:
    given, stored = _postal(given), _postal(stored)
    if stored.isdigit() and len(stored) == 5:  # US ZIP; ZIP+4 counts by its first five
        return given[:5] == stored and given.isdigit()
    return given == stored


def _matches(
    customer: Customer, *, card_last4: str, date_of_birth: date | None, postal_code: str | None
) -> bool:
    if not customer.cards.filter(last4=card_last4).exists():
        return False
    if date_of_birth is not None and date_of_birth == customer.date_of_birth:
        return True
    return bool(postal_code) and _postal_matches(postal_code, customer.postal_code)


@transaction.atomic
def caller_verify(
    *,
    api_key_id: int,
    conversation_key: str,
    phone: str,
    card_last4: str,
    date_of_birth: date | None,
    postal_code: str | None,
    now: datetime,
) -> VerificationOutcome:
    """Check what a caller says against the customer registered to ``phone``.

    A match binds the conversation to that customer. Every try is recorded; after
    ``BANK_VERIFICATION_MAX_ATTEMPTS`` failures the conversation is locked for good, and
    a locked conversation is not checked again. An unknown phone fails like a wrong answer,
    so the answer never tells whether a number is a customer's.
    """
    session = caller_session_get_or_create(api_key_id=api_key_id, conversation_key=conversation_key)
    # Locked so that simultaneous guesses in one conversation are counted one by one.
    session = CallerSession.objects.select_for_update().get(pk=session.pk)
    limit = settings.BANK_VERIFICATION_MAX_ATTEMPTS
    if session.locked_at is not None:
        return VerificationOutcome(customer=None, attempts_left=0, locked=True)
    customer = Customer.objects.filter(phone=phone).first()
    matched = customer is not None and _matches(
        customer, card_last4=card_last4, date_of_birth=date_of_birth, postal_code=postal_code
    )
    VerificationAttempt.objects.create(
        session=session,
        claimed_phone=phone,
        customer=customer if matched else None,
        succeeded=matched,
    )
    if matched:
        session.customer, session.verified_at = customer, now
        session.save(update_fields=["customer", "verified_at"])
        return VerificationOutcome(customer=customer, attempts_left=limit, locked=False)
    failures = session.verification_attempts.filter(succeeded=False).count()
    if failures >= limit:
        session.locked_at = now
        session.save(update_fields=["locked_at"])
    return VerificationOutcome(
        customer=None, attempts_left=max(limit - failures, 0), locked=failures >= limit
    )


def caller_session_handoff_request(
    *, api_key_id: int, conversation_key: str, now: datetime
) -> None:
    """Mark the conversation as handed to a human, for staff to find in the admin."""
    session = caller_session_get_or_create(api_key_id=api_key_id, conversation_key=conversation_key)
    CallerSession.objects.filter(pk=session.pk, handoff_requested_at__isnull=True).update(
        handoff_requested_at=now
    )
