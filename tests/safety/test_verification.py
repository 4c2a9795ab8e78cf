"""Verification that holds when the model lies: a detail counts only when the caller said
it, and failures lock the claimed number across conversations and API keys until the lock
ends or staff lift it."""

import pytest
from django.urls import reverse

from api.keys import api_key_create
from bank.models import CallerSession, VerificationAttempt, VerificationLock
from tests.chat import Chat
from tests.scripted import Step, call, says_tool_results

pytestmark = pytest.mark.django_db(transaction=True)

ANAS_NUMBER = "415 555 0101"
ANAS_DETAILS = {"card_last4": "4567", "date_of_birth": "1988-03-14"}


def _web(url: str, key: str) -> Chat:
    """A web chat: the number is only what the caller types (a claim)."""
    return Chat(url, key, model=None)


def _verified(chat: Chat) -> bool:
    session = CallerSession.objects.filter(conversation_key=f"call:{chat.call_id}").first()
    return session is not None and session.customer_id is not None


def test_details_only_the_model_supplied_do_not_verify_and_count_as_a_failure(
    scripted_server_url, scripted_model, standard_key, demo_bank
):
    chat = _web(scripted_server_url, standard_key)
    scripted_model.then(
        Step(tool_calls=[call("verify_identity", **ANAS_DETAILS)]), says_tool_results()
    )

    answer = chat.say(f"hi, my number is {ANAS_NUMBER}, what's my balance?")

    assert answer.startswith("I can only check details you tell me yourself")
    assert not _verified(chat)
    attempt = VerificationAttempt.objects.get()
    assert (attempt.outcome, attempt.succeeded) == ("not_said", False)

    # Said by the caller (spoken digits, a date in words), the same details verify.
    scripted_model.then(
        Step(tool_calls=[call("verify_identity", **ANAS_DETAILS)]), says_tool_results()
    )
    answer = chat.say("four five six seven, born march fourteenth nineteen eighty eight")

    assert answer == "Thank you, Ana, you're verified."
    assert _verified(chat)


def test_one_invented_detail_beside_said_ones_fails(
    scripted_server_url, scripted_model, standard_key, demo_bank
):
    chat = _web(scripted_server_url, standard_key)
    scripted_model.then(
        Step(tool_calls=[call("verify_identity", card_last4="4567", postal_code="94110")]),
        says_tool_results(),
    )

    chat.say(f"my number is {ANAS_NUMBER} and my card ends 4567")  # no ZIP said

    assert not _verified(chat)
    assert VerificationAttempt.objects.get().outcome == "not_said"


def _guess(url: str, key: str, scripted_model, details: str, arguments: dict) -> str:
    chat = _web(url, key)  # a new conversation (a new call id) each time
    scripted_model.then(Step(tool_calls=[call("verify_identity", **arguments)]), says_tool_results())
    return chat.say(f"my number is {ANAS_NUMBER}, {details}")


def test_guessing_across_six_conversations_locks_the_number_until_staff_lift_it(
    scripted_server_url, scripted_model, standard_key, demo_bank, admin_client, settings
):
    other_key = api_key_create(name="another-client", trusted_channel=False)[1]
    for index in range(settings.VERIFICATION_MAX_FAILURES):  # 5 wrong guesses, 5 conversations
        key = standard_key if index % 2 else other_key  # ...on two API keys
        wrong = f"{1111 * (index + 1) % 10000:04d}"
        _guess(
            scripted_server_url,
            key,
            scripted_model,
            f"card {wrong}, born march 14 1988",
            {"card_last4": wrong, "date_of_birth": "1988-03-14"},
        )
    lock = VerificationLock.objects.get()
    assert lock.phone == "+14155550101" and lock.failures == 5

    # The sixth conversation has the right details, and is refused with a hand-off.
    answer = _guess(
        scripted_server_url, standard_key, scripted_model, "card 4567, born march 14 1988", ANAS_DETAILS
    )
    assert "I couldn't verify your identity" in answer and "transfer you to a colleague" in answer
    assert not CallerSession.objects.filter(customer__isnull=False).exists()
    assert VerificationAttempt.objects.filter(outcome="locked").count() == 1

    # Staff see the lock and lift it in the admin.
    changelist = reverse("admin:bank_verificationlock_changelist")
    assert "+14155550101" in admin_client.get(changelist).content.decode()
    response = admin_client.post(
        changelist, {"action": "lift", "_selected_action": [lock.pk]}, follow=True
    )
    assert "1 lock(s) lifted." in response.content.decode()

    answer = _guess(
        scripted_server_url, standard_key, scripted_model, "card 4567, born march 14 1988", ANAS_DETAILS
    )
    assert answer == "Thank you, Ana, you're verified."
