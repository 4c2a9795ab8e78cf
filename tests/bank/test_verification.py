"""Verifying a caller: the match, the counted failures, the lock, and the answers that do
not tell whether a number is a customer's."""

from datetime import date

import pytest
from django.utils import timezone

from api.keys import api_key_create
from bank.models import CallerSession, VerificationAttempt
from bank.services.sessions import caller_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def verify(demo_customers):
    key, _ = api_key_create(name="web", trusted_channel=False)

    def run(phone="+14155550101", last4="4567", born=None, postal=None, conversation="id:1"):
        return caller_verify(
            api_key_id=key.pk,
            conversation_key=conversation,
            phone=phone,
            card_last4=last4,
            date_of_birth=born,
            postal_code=postal,
            now=timezone.now(),
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
