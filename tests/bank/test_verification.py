"""Verifying a caller: the match, the counted failures, the lock, and the answers that do
not tell whether a number is a customer's."""

from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from api.keys import api_key_create
from bank.models import CallerSession, VerificationAttempt, VerificationLock
from bank.services.sessions import caller_sessions_expire, caller_verify, verification_lock_lift

pytestmark = pytest.mark.django_db


@pytest.fixture
def verify(demo_customers):
    key, _ = api_key_create(name="web", trusted_channel=False)

    def run(
        phone="+14155550101",
        last4="4567",
        born=None,
        postal=None,
        conversation="id:1",
        now=None,
        said=True,
    ):
        return caller_verify(
            api_key_id=key.pk,
            conversation_key=conversation,
            phone=phone,
            card_last4=last4,
            date_of_birth=born,
            postal_code=postal,
            now=now or timezone.now(),
            said_by_caller=said,
        )

    return run


@pytest.mark.parametrize(
    ("born", "postal"),
    [(date(1988, 3, 14), None), (None, "94110"), (None, "94110-1234"), (date(1999, 1, 1), "94110")],
)
def test_card_ending_with_birth_date_or_zip_verifies(verify, born, postal):
    outcome = verify(born=born, postal=postal)

    assert outcome.verified and outcome.customer.full_name == "Ana Lopez"
    assert CallerSession.objects.get().customer == outcome.customer


def test_uk_postcodes_match_whatever_the_spacing_and_case(verify):
    assert verify(phone="+442079460958", last4="7788", postal="se17pb").verified


@pytest.mark.parametrize(
    ("phone", "last4", "born"),
    [
        ("+14155550101", "8899", date(1988, 3, 14)),  # another customer's card
        ("+14155550101", "4567", date(1988, 3, 15)),
        ("+14155550199", "4567", date(1988, 3, 14)),  # nobody's number
    ],
)
def test_anything_wrong_fails_the_same_way(verify, phone, last4, born):
    outcome = verify(phone=phone, last4=last4, born=born)

    assert not outcome.verified and outcome.attempts_left == 2
    assert VerificationAttempt.objects.get().succeeded is False


def test_three_failures_lock_the_conversation_for_good(verify):
    for _ in range(3):
        outcome = verify(last4="0000", postal="00000")

    assert outcome.locked
    assert not verify(born=date(1988, 3, 14)).verified
    assert VerificationAttempt.objects.count() == 3
    assert verify(born=date(1988, 3, 14), conversation="id:2").verified


def test_failures_count_per_conversation(verify):
    verify(last4="0000", postal="00000", conversation="id:a")
    verify(last4="0000", postal="00000", conversation="id:a")

    assert verify(last4="0000", postal="00000", conversation="id:b").attempts_left == 2


RIGHT = {"born": date(1988, 3, 14)}
WRONG = {"last4": "0000", "postal": "00000"}


def _fail_in_new_conversations(verify, count: int, *, phone="+14155550101", now=None) -> None:
    for index in range(count):
        verify(phone=phone, conversation=f"id:guess-{index}-{now}", now=now, **WRONG)


def test_failures_across_conversations_lock_the_number_even_for_the_right_details(verify):
    _fail_in_new_conversations(verify, 4)
    assert verify(conversation="id:fifth", **WRONG).locked  # the fifth failure locks

    outcome = verify(conversation="id:sixth", **RIGHT)

    assert not outcome.verified and outcome.locked
    lock = VerificationLock.objects.get()
    assert (lock.phone, lock.customer.full_name, lock.failures) == ("+14155550101", "Ana Lopez", 5)
    assert VerificationAttempt.objects.filter(outcome="locked").count() == 1


def test_details_the_caller_never_said_fail_and_count(verify):
    outcome = verify(said=False, **RIGHT)

    assert not outcome.verified and outcome.attempts_left == 2
    assert VerificationAttempt.objects.get().outcome == "not_said"


def test_a_lock_ends_by_itself_and_the_old_failures_no_longer_count(verify, settings):
    _fail_in_new_conversations(verify, 5)
    after = VerificationLock.objects.get().locked_until + timedelta(seconds=1)

    assert verify(conversation="id:later", now=after, **RIGHT).verified
    # One more failure after the lock ended does not lock again.
    assert not verify(conversation="id:later-wrong", now=after, **WRONG).locked


def test_staff_lifting_a_lock_lets_the_right_details_through(verify, admin_user):
    _fail_in_new_conversations(verify, 5)
    lock = VerificationLock.objects.get()

    assert verification_lock_lift(lock=lock, lifted_by_id=admin_user.pk, now=timezone.now())
    assert verify(conversation="id:after-lift", **RIGHT).verified
    lock.refresh_from_db()
    assert lock.lifted_by == admin_user


def test_a_number_that_is_nobodys_locks_the_same_way(verify):
    _fail_in_new_conversations(verify, 5, phone="+14155550199")

    assert VerificationLock.objects.get().customer is None
    assert verify(phone="+14155550199", conversation="id:x", **RIGHT).locked


def test_old_sessions_and_ended_locks_expire(verify, settings):
    _fail_in_new_conversations(verify, 5)
    verify(conversation="id:recent", **RIGHT)
    long_ago = timezone.now() - timedelta(days=40)
    CallerSession.objects.exclude(conversation_key="id:recent").update(created_at=long_ago)
    VerificationLock.objects.update(locked_at=long_ago, locked_until=long_ago + timedelta(days=1))

    expired = caller_sessions_expire(older_than=timezone.now() - timedelta(days=30))

    assert (expired.sessions, expired.locks) == (5, 1)
    assert list(CallerSession.objects.values_list("conversation_key", flat=True)) == ["id:recent"]
    assert VerificationAttempt.objects.count() == 1  # the recent conversation's (refused: locked)


def test_expiry_keeps_what_still_counts_towards_a_lock(settings):
    settings.VERIFICATION_LOCK_SECONDS = 3 * 86400
    with pytest.raises(ValueError):
        caller_sessions_expire(older_than=timezone.now() - timedelta(days=2))
    with pytest.raises(CommandError, match="VERIFICATION_LOCK_SECONDS"):
        call_command("expire_caller_sessions", "--days", "2")
    call_command("expire_caller_sessions", "--days", "3")
