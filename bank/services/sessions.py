"""A conversation's server-side state: verifying the caller, and asking for a human.

Verification failures count twice: per conversation (``BANK_VERIFICATION_MAX_ATTEMPTS``
locks that conversation for good) and per claimed phone number across all conversations
and API keys (``VERIFICATION_MAX_FAILURES`` within ``VERIFICATION_LOCK_SECONDS`` sets a
``VerificationLock`` on the number), so that new call ids buy an attacker no new guesses.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bank.models import CallerSession, Customer, VerificationAttempt, VerificationLock

Outcome = VerificationAttempt.Outcome
_COUNTED = (Outcome.MISMATCH, Outcome.NOT_SAID)


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


def _active_locks(phone: str, now: datetime):
    return VerificationLock.objects.filter(phone=phone, lifted_at__isnull=True, locked_until__gt=now)


def verification_lock_active(*, phone: str, now: datetime) -> VerificationLock | None:
    """The lock on ``phone`` that holds at ``now``, if any."""
    return _active_locks(phone, now).first()


def _failures_for_number(phone: str, now: datetime) -> int:
    """Failed attempts for ``phone`` that count towards a lock: within the window, and
    after the last lock on it ended (lifted, or run out)."""
    since = now - timedelta(seconds=settings.VERIFICATION_LOCK_SECONDS)
    last = VerificationLock.objects.filter(phone=phone).order_by("-locked_at").first()
    if last is not None:
        since = max(since, last.ends_at())
    return VerificationAttempt.objects.filter(
        claimed_phone=phone, outcome__in=_COUNTED, created_at__gt=since
    ).count()


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
    said_by_caller: bool = True,
) -> VerificationOutcome:
    """Check what a caller says against the customer registered to ``phone``.

    A match binds the conversation to that customer. Every try is recorded. Details the
    caller never said (``said_by_caller=False``: the model made them up) are not checked
    and fail. After ``BANK_VERIFICATION_MAX_ATTEMPTS`` failures the conversation is locked
    for good; after ``VERIFICATION_MAX_FAILURES`` failures for ``phone`` within
    ``VERIFICATION_LOCK_SECONDS``, in any conversations, the number is locked
    (``VerificationLock``) and even the right details fail until the lock ends or staff
    lift it. A locked conversation or number is not checked again. An unknown phone fails
    like a wrong answer, so the answer never tells whether a number is a customer's.
    """
    session = caller_session_get_or_create(api_key_id=api_key_id, conversation_key=conversation_key)
    # Locked so that simultaneous guesses in one conversation are counted one by one.
    session = CallerSession.objects.select_for_update().get(pk=session.pk)
    limit = settings.BANK_VERIFICATION_MAX_ATTEMPTS
    if session.locked_at is not None:
        return VerificationOutcome(customer=None, attempts_left=0, locked=True)
    # Locked too, so that guesses for one customer from many conversations queue up.
    customer = Customer.objects.select_for_update().filter(phone=phone).first()
    attempt = VerificationAttempt(session=session, claimed_phone=phone, succeeded=False)
    if verification_lock_active(phone=phone, now=now) is not None:
        attempt.outcome = Outcome.LOCKED
        attempt.save()
        return VerificationOutcome(customer=None, attempts_left=0, locked=True)
    matched = (
        said_by_caller
        and customer is not None
        and _matches(
            customer, card_last4=card_last4, date_of_birth=date_of_birth, postal_code=postal_code
        )
    )
    if matched:
        attempt.outcome, attempt.succeeded, attempt.customer = Outcome.MATCHED, True, customer
        attempt.save()
        session.customer, session.verified_at = customer, now
        session.save(update_fields=["customer", "verified_at"])
        return VerificationOutcome(customer=customer, attempts_left=limit, locked=False)
    attempt.outcome = Outcome.MISMATCH if said_by_caller else Outcome.NOT_SAID
    attempt.save()
    failures = session.verification_attempts.filter(outcome__in=_COUNTED).count()
    if failures >= limit:
        session.locked_at = now
        session.save(update_fields=["locked_at"])
    number_failures = _failures_for_number(phone, now)
    number_locked = number_failures >= settings.VERIFICATION_MAX_FAILURES
    if number_locked:
        VerificationLock.objects.create(
            phone=phone,
            customer=customer,
            failures=number_failures,
            locked_at=now,
            locked_until=now + timedelta(seconds=settings.VERIFICATION_LOCK_SECONDS),
        )
    left = min(limit - failures, settings.VERIFICATION_MAX_FAILURES - number_failures)
    return VerificationOutcome(
        customer=None, attempts_left=max(left, 0), locked=failures >= limit or number_locked
    )


def verification_lock_lift(*, lock: VerificationLock, lifted_by_id: int | None, now: datetime) -> bool:
    """Lift a lock (staff, in the admin); the failures before it no longer count.
    False when it no longer held."""
    updated = VerificationLock.objects.filter(
        pk=lock.pk, lifted_at__isnull=True, locked_until__gt=now
    ).update(lifted_at=now, lifted_by_id=lifted_by_id)
    return updated == 1


@dataclass(frozen=True)
class Expired:
    sessions: int
    locks: int


@transaction.atomic
def caller_sessions_expire(*, older_than: datetime) -> Expired:
    """Delete conversations' server-side state started before ``older_than`` (their
    verification attempts with them) and locks that ended before it.

    Raises ``ValueError`` when ``older_than`` is within ``VERIFICATION_LOCK_SECONDS`` of
    now: attempts still counting towards a lock must stay.
    """
    window = timedelta(seconds=settings.VERIFICATION_LOCK_SECONDS)
    if older_than > timezone.now() - window:
        raise ValueError(
            "Keep at least VERIFICATION_LOCK_SECONDS of history: failed attempts within it "
            "still count towards a lock."
        )
    # Pending actions keep their rows (their session becomes empty); nothing else refers here.
    _, sessions = CallerSession.objects.filter(created_at__lt=older_than).delete()
    ended = Q(lifted_at__lt=older_than) | Q(lifted_at__isnull=True, locked_until__lt=older_than)
    _, locks = VerificationLock.objects.filter(ended).delete()
    return Expired(
        sessions=sessions.get(CallerSession._meta.label, 0),
        locks=locks.get(VerificationLock._meta.label, 0),
    )


def caller_session_handoff_request(
    *, api_key_id: int, conversation_key: str, now: datetime
) -> None:
    """Mark the conversation as handed to a human, for staff to find in the admin."""
    session = caller_session_get_or_create(api_key_id=api_key_id, conversation_key=conversation_key)
    CallerSession.objects.filter(pk=session.pk, handoff_requested_at__isnull=True).update(
        handoff_requested_at=now
    )
