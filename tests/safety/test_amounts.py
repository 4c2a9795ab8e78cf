"""Money arguments are read strictly: whatever the model writes, an amount that is not a plain
positive number of cents within the limits asks again and records nothing."""

import pytest

from bank.models import PendingAction
from tests.chat import Chat
from tests.scripted import Step, call, says_tool_results

pytestmark = pytest.mark.django_db(transaction=True)

ASKS_AGAIN = "how much would you like, as a plain number such as 250 or 250.75?"


@pytest.mark.parametrize(
    ("arguments", "heard"),
    [
        ('{"amount": "-$523.45"}', "That amount is negative"),
        ('{"amount": -200}', "That amount is negative"),
        ('{"amount": "\u2212$545.67"}', "That amount is negative"),  # Unicode minus
        ('{"amount": "1e5"}', "written in a form I don't accept"),
        ('{"amount": NaN}', "That isn't a number I can use"),
        ('{"amount": "NaN"}', "That isn't a number I can use"),
        ('{"amount": Infinity}', "That isn't a number I can use"),
        ('{"amount": "12.345"}', "more than two decimal places"),
        ('{"amount": 0}', "That amount is zero"),
        ('{"amount": "12 dollars"}', "That isn't an amount I can read"),
        ('{"amount": 6000}', "daily limit"),  # over BANK_DAILY_TRANSFER_LIMIT (5000)
    ],
)
def test_a_malformed_amount_is_refused_with_a_clear_message(
    scripted_server_url, scripted_model, trusted_key, demo_bank, arguments, heard
):
    ana = Chat(scripted_server_url, trusted_key, phone=demo_bank["Ana Lopez"]["phone"], model=None)
    with_accounts = arguments[:-1] + ', "from_account": "savings", "to_account": "checking"}'
    scripted_model.then(
        Step(tool_calls=[call("transfer_between_accounts", with_accounts)]), says_tool_results()
    )

    answer = ana.say("move some money to checking")

    assert heard in answer
    assert not PendingAction.objects.exists()


@pytest.mark.parametrize(
    "words",
    [
        "Move -200 dollars from checking to savings",
        "move \u2212$200 from checking to savings",
        "transfer minus 200 dollars from checking to savings",
    ],
)
def test_the_default_model_asks_again_for_a_negative_amount(
    live_server_url, trusted_key, demo_bank, words
):
    ana = Chat(live_server_url, trusted_key, phone=demo_bank["Ana Lopez"]["phone"])

    answer = ana.say(words)

    assert answer.startswith("That amount is negative") and answer.endswith(ASKS_AGAIN)
    assert not PendingAction.objects.exists()
    # Asked again, the caller's plain amount is read back as usual.
    assert "I'll move $200.00 from your Everyday Checking" in ana.say("200 dollars")
