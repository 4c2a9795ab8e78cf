"""Questions every bank gets, answered by the default (offline) model through the API:
card secrets get the bank's policy, public questions are answered from the bank's
documents without verification, several requests in one sentence are each understood,
and a follow-up is read against what was just done. Each kind with paraphrases."""

import pytest

from bank.models import CreditCard, PendingAction
from tests.chat import Chat

pytestmark = pytest.mark.django_db(transaction=True)

POLICY = "I only ever share the last four digits of a card"


@pytest.fixture
def ana(live_server_url, trusted_key, demo_bank) -> Chat:
    """Ana Lopez on the phone: Vapi vouches for her number."""
    return Chat(live_server_url, trusted_key, phone=demo_bank["Ana Lopez"]["phone"])


@pytest.fixture
def stranger(live_server_url, standard_key, demo_bank) -> Chat:
    """Someone in a web chat who has not said who they are."""
    return Chat(live_server_url, standard_key, call_id=None, header_id="web-everyday-1")


@pytest.mark.parametrize(
    "question",
    [
        "What's the CVV and the PIN for my card ending {last4}?",
        "Read me the full 16-digit number on my Visa",
        "what's the security code on the back of my card ending {last4}",
        "can you tell me the whole number on my credit card",
        "I need the expiration date and cvc for the card ending in {last4}",
        "what is the number on the front of my visa",
    ],
)
def test_card_secrets_get_the_banks_policy_never_the_card(ana, demo_bank, question):
    last4 = demo_bank["Ana Lopez"]["cards"][0]["last4"]

    answer = ana.say(question.format(last4=last4))

    assert POLICY in answer
    assert "$" not in answer, "no balance or other card data instead"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What's the interest rate on the High-Yield Savings account?", "4.10% APY"),
        ("how much interest does rainy day savings pay", "3.25% APY"),
        ("Can I pay off my loan early without a penalty?", "no prepayment fee"),
        ("is there a penalty if i pay my car loan off early", "no prepayment fee"),
        ("How much does a stop payment cost?", "A stop payment costs $30"),
        ("what does it cost to send a domestic wire", "Domestic wires cost $25"),
        ("how much is a cashier's check", "A cashier's check costs $10"),
    ],
)
def test_public_questions_are_answered_from_the_banks_documents_without_verification(
    stranger, question, expected
):
    answer = stranger.say(question)

    assert expected in answer
    assert "verify" not in answer.lower()


@pytest.mark.parametrize(
    "request_text",
    [
        "My visa was stolen, please block it and send me a new one",
        "someone stole my visa, lock it and mail me a replacement",
        "my card got stolen so cancel it and send a new one",
    ],
)
def test_a_stolen_card_reported_in_one_sentence_is_reported_not_a_transfer(ana, request_text):
    answer = ana.say(request_text)

    action = PendingAction.objects.get()
    assert action.kind == PendingAction.Kind.REPORT_CARD_STOLEN
    assert "transfer" not in answer.lower()


@pytest.mark.parametrize(
    "question",
    [
        "what were my last few transactions",
        "show me my last couple of purchases",
        "what are my most recent few charges",
    ],
)
def test_how_many_transactions_is_no_merchant(ana, question):
    answer = ana.say(question)

    assert "couldn't find" not in answer.lower() and "no transactions" not in answer.lower()
    assert "few" not in answer.lower() and "couple" not in answer.lower()


@pytest.mark.parametrize("follow_up", ["now unfreeze it", "ok, unfreeze it again", "unlock it now"])
def test_unfreezing_right_after_a_freeze_is_a_new_request(ana, demo_bank, follow_up):
    card = CreditCard.objects.get(last4=demo_bank["Ana Lopez"]["cards"][0]["last4"])
    ana.say(f"freeze my card ending {card.last4}")
    ana.say("yes")
    card.refresh_from_db()
    assert card.status == CreditCard.Status.FROZEN

    answer = ana.say(follow_up)

    assert "unfreeze" in answer.lower(), answer
    assert PendingAction.objects.filter(kind=PendingAction.Kind.UNFREEZE_CARD).exists(), (answer, ana.messages)
