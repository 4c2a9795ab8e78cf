"""The offline model across turns: it follows its own questions, and nothing else."""

from datetime import date

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock

from agents.offline.policy import CARD_NUMBER_POLICY, reply
from agents.tools import _METADATA, BANK_TOOL_NAMES

TOOLS = list(_METADATA.values())
TODAY = date(2026, 11, 22)
CONFIRM = (
    "I'll freeze your Visa ending 4567. Shall I go ahead? Say yes to confirm, or no to cancel."
)
VERIFY = (
    "For your security I need to verify your identity first. Please tell me the last four "
    "digits of one of your cards, and your date of birth or ZIP code."
)


def user(text):
    return ChatMessage(role=MessageRole.USER, content=text)


def assistant(text):
    return ChatMessage(role=MessageRole.ASSISTANT, content=text)


def calls(*messages):
    message = reply(list(messages), tools=TOOLS, bank_name="Test Bank", today=TODAY)
    return [
        (b.tool_name, b.tool_kwargs) for b in message.blocks if isinstance(b, ToolCallBlock)
    ] or message.content


@pytest.mark.parametrize(
    ("answer", "tool"),
    [("yes, freeze it", "confirm_pending_action"), ("no thanks", "cancel_pending_action")],
)
def test_yes_or_no_to_the_question_it_asked(answer, tool):
    assert calls(user("freeze my card"), assistant(CONFIRM), user(answer)) == [(tool, {})]


def test_yes_to_nothing_is_small_talk():
    assert calls(user("yes")) == calls(user("pardon?"))


def test_a_yes_right_after_a_done_action_only_asks_the_tool_again():
    done = "Your Visa ending 4567 is now frozen. Your reference number is FT-ABCDEFGH."
    assert calls(user("yes"), assistant(done), user("yes")) == [("confirm_pending_action", {})]


def test_verification_details_go_to_verify_identity():
    assert calls(user("what's my balance?"), assistant(VERIFY), user("4567, march 14 1988")) == [
        ("verify_identity", {"card_last4": "4567", "date_of_birth": "1988-03-14"})
    ]


def test_details_over_two_replies_are_put_together():
    partial = (
        "To verify you I need the last four digits of one of your cards, and your date of "
        "birth or ZIP code."
    )
    assert calls(
        user("balance?"), assistant(VERIFY), user("4567"), assistant(partial), user("zip 94110")
    ) == [("verify_identity", {"card_last4": "4567", "postal_code": "94110"})]


def _verified(*before, result="Thank you, Ana, you're verified."):
    call = ChatMessage(
        role=MessageRole.ASSISTANT,
        blocks=[ToolCallBlock(tool_call_id="c1", tool_name="verify_identity", tool_kwargs={})],
    )
    return [
        *before,
        call,
        ChatMessage(
            role=MessageRole.TOOL, content=result, additional_kwargs={"tool_call_id": "c1"}
        ),
    ]


def test_once_verified_it_answers_the_question_that_needed_it():
    messages = _verified(
        user("what's my savings balance?"), assistant(VERIFY), user("card 4567, zip 94110")
    )
    assert calls(*messages) == [("get_account_balances", {"account_type": "savings"})]


def test_a_failed_verification_is_only_spoken():
    failed = "Sorry, those details don't match our records."
    messages = _verified(
        user("balance?"), assistant(VERIFY), user("card 4567, zip 10001"), result=failed
    )
    assert calls(*messages) == failed


def test_the_full_card_number_is_never_read_out():
    assert calls(user("what's my full card number and the cvv?")) == CARD_NUMBER_POLICY


def test_a_short_answer_completes_the_earlier_request():
    asked = (
        "How much would you like to pay on your Visa ending 4567: the minimum payment of "
        "$35.00, or another amount?"
    )
    assert calls(user("pay my credit card"), assistant(asked), user("the minimum")) == [
        ("pay_credit_card", {"pay_option": "minimum"})
    ]


def test_accepting_the_offer_of_a_person():
    offer = "I couldn't verify your identity. I can transfer you to a colleague who can help."
    assert calls(user("x"), assistant(offer), user("yes please")) == [("transfer_to_human", {})]


def test_every_tool_it_calls_exists():
    assert {"confirm_pending_action", "cancel_pending_action", "verify_identity"} <= BANK_TOOL_NAMES


def test_another_action_right_after_one_is_done_is_a_new_request():
    done = (
        "Your Visa ending 4567 is now frozen; ask me any time to unfreeze it. Your reference "
        "number is FT-ABCDEFGH."
    )
    conversation = [user("freeze my visa"), assistant(CONFIRM), user("yes"), assistant(done)]

    assert calls(*conversation, user("now unfreeze it")) == [("unfreeze_card", {})]
    assert calls(*conversation[:2], user("yes, freeze it")) == [("confirm_pending_action", {})]
