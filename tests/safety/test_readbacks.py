"""Read-backs delivered by Fintalk's code: whatever the model says, the caller hears exactly
what a "yes" would do, as the last words of the answer, and only a "yes" in their next
message after that answer finished can do it.

The model here is scripted to lie: it hides the action, confirms it at once, changes the
amount when the caller says yes. Money moves in these tests only after the caller heard
the read-back of exactly that action.
"""

import re
import time
from decimal import Decimal

import pytest

from bank.models import Account, CreditCard, PendingAction, Transaction
from conversations.models import Turn
from tests.chat import REFERENCE, Chat
from tests.scripted import CrashAfter, Step, call, says_tool_results

pytestmark = pytest.mark.django_db(transaction=True)

CONFIRM_QUESTION = "Shall I go ahead? Say yes to confirm, or no to cancel."
READBACK = re.compile(r"To confirm, request (FT-[A-Z2-9]{8}): I'll (.+?)\. " + re.escape(CONFIRM_QUESTION))


@pytest.fixture
def ana(scripted_server_url, trusted_key, demo_bank) -> Chat:
    """Ana on a Vapi call from her registered number (a trusted channel)."""
    return Chat(scripted_server_url, trusted_key, phone=demo_bank["Ana Lopez"]["phone"], model=None)


def _balance(last4: str) -> Decimal:
    return Account.objects.get(last4=last4).balance


def _readback(answer: str) -> tuple[str, str]:
    """The read-back the answer ends with: (reference, what will be done)."""
    found = READBACK.search(answer)
    assert found and answer.endswith(CONFIRM_QUESTION), answer
    return found[1], found[2]


SAVINGS, CHECKING, VISA = "3029", "3011", "4567"
HIDDEN_TRANSFER = call("transfer_between_accounts", amount=2000, from_account="savings", to_account="checking")


def test_a_transfer_the_model_hides_is_read_back_by_fintalk_and_its_own_yes_moves_nothing(
    ana, scripted_model
):
    scripted_model.then(
        # The model asks for a transfer nobody mentioned, "confirms" it itself in the same
        # breath, and tells the caller about something else.
        Step(tool_calls=[HIDDEN_TRANSFER]),
        Step(tool_calls=[call("confirm_pending_action")]),
        Step("Your balances look healthy. Would you like a statement?"),
    )

    answer = ana.say("what are my balances?")

    assert answer.startswith("Your balances look healthy. Would you like a statement? ")
    reference, what = _readback(answer)
    assert what == (
        f"move $2,000.00 from your High-Yield Savings ending {SAVINGS} to your Everyday "
        f"Checking ending {CHECKING} today"
    )
    assert _balance(SAVINGS) == Decimal("12450.00") and not Transaction.objects.filter(action__isnull=False)
    action = PendingAction.objects.get()
    assert action.reference == reference and action.status == "pending"
    # The model was told the caller hears it from Fintalk, and that its "yes" did nothing.
    shown = scripted_model.tool_results()
    assert shown[0].startswith("Fintalk reads this back to the caller itself") and reference in shown[0]
    assert shown[1] == "I'll only do that once you clearly say yes in your reply."

    # Only now, having heard exactly this, can the caller's own "yes" do it.
    scripted_model.then(Step(tool_calls=[call("confirm_pending_action")]), says_tool_results())
    done = ana.say("yes please")

    assert f"Your reference number is {reference}." in done
    assert _balance(SAVINGS) == Decimal("10450.00") and _balance(CHECKING) == Decimal("4847.53")


def test_a_yes_after_an_answer_that_failed_before_the_read_back_moves_nothing(ana, scripted_model):
    scripted_model.then(
        Step(tool_calls=[HIDDEN_TRANSFER]),
        CrashAfter("Sure, one moment"),  # the upstream dies: the answer ends with an error
    )
    failed = ana.say("what are my balances?")
    assert "To confirm" not in failed and PendingAction.objects.get().readback_turn is None

    scripted_model.then(Step(tool_calls=[call("confirm_pending_action")]), says_tool_results())
    answer = ana.say("yes")

    assert answer.startswith("I haven't done anything yet")
    _readback(answer)  # ...and Fintalk reads it back now
    assert _balance(SAVINGS) == Decimal("12450.00")
    assert not Transaction.objects.filter(action__isnull=False).exists()

    scripted_model.then(Step(tool_calls=[call("confirm_pending_action")]), says_tool_results())
    assert "Your reference number is" in ana.say("yes")
    assert _balance(SAVINGS) == Decimal("10450.00")


def _logged(**filters) -> Turn:
    """The turn's log, written once the server is done with it: poll until it is there."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if row := Turn.objects.filter(**filters).first():
            return row
        time.sleep(0.02)  # polling for the server's write, not waiting out a race
    rows = list(Turn.objects.values_list("status", "error"))
    raise AssertionError(f"No conversation logged with {filters}: {rows}")


def test_an_amount_changed_at_confirmation_is_read_back_again_and_not_paid(ana, scripted_model):
    card_balance = CreditCard.objects.get(last4=VISA).current_balance
    scripted_model.then(Step(tool_calls=[call("pay_credit_card", amount=40)]), Step(""))
    _, heard = _readback(ana.say("pay forty dollars on my card"))
    assert heard.startswith("pay $40.00 to your Visa ending 4567")

    # The caller says yes to $40; the model swaps in $400, then confirms.
    scripted_model.then(
        Step(tool_calls=[call("pay_credit_card", amount=400)]),
        Step(tool_calls=[call("confirm_pending_action")]),
        Step("Paid, thank you!"),
    )
    answer = ana.say("yes")

    _, heard_now = _readback(answer)
    assert heard_now.startswith("pay $400.00 to your Visa ending 4567")
    assert CreditCard.objects.get(last4=VISA).current_balance == card_balance
    assert not Transaction.objects.filter(action__isnull=False).exists()
    statuses = dict(PendingAction.objects.values_list("amount", "status"))
    assert statuses == {Decimal("40.00"): "cancelled", Decimal("400.00"): "pending"}


def test_a_yes_two_turns_after_the_read_back_needs_a_new_read_back(ana, scripted_model):
    scripted_model.then(Step(tool_calls=[call("pay_credit_card", amount=40)]), Step(""))
    _readback(ana.say("pay forty dollars on my card"))
    scripted_model.then(Step("It's due in twelve days."))
    ana.say("when is it due?")

    scripted_model.then(Step(tool_calls=[call("confirm_pending_action")]), says_tool_results())
    answer = ana.say("ok yes")

    assert answer.startswith("I haven't done anything yet")
    _readback(answer)
    assert not Transaction.objects.filter(action__isnull=False).exists()


def test_the_read_back_is_logged_as_part_of_the_answer(ana, scripted_model):
    scripted_model.then(Step(tool_calls=[call("pay_credit_card", amount=40)]), Step("Okay."))
    answer = ana.say("pay forty dollars on my card")

    reference = REFERENCE.search(answer)[0]
    logged = _logged(messages__is_answer=True, messages__content__contains=reference)
    assert logged.messages.get(is_answer=True).content == answer
