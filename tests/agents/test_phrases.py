"""The words the tools say and the offline model recognises are one contract (agents.phrases):
every sentence a tool builds is recognised, and nobody copies a phrase as a literal."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock

from agents import phrases
from agents.offline.dialogue import Dialogue
from agents.offline.policy import reply
from agents.tools import _METADATA
from agents.tools.actions import done_text
from agents.tools.base import VERIFY_FIRST, VERIFY_FIRST_WITH_PHONE, locked_text
from agents.tools.identity import NOT_SAID
from bank.models import Account, PendingAction
from bank.services.actions import Confirmation

ROOT = Path(__file__).resolve().parents[2]
TOOLS = list(_METADATA.values())


def _after(assistant_said: str, user_says: str = "yes") -> Dialogue:
    messages = [
        ChatMessage(role=MessageRole.USER, content="hello"),
        ChatMessage(role=MessageRole.ASSISTANT, content=assistant_said),
        ChatMessage(role=MessageRole.USER, content=user_says),
    ]
    return Dialogue(messages=messages, last_user=2)


def _tools_called(assistant_said: str, user_says: str) -> list[str]:
    messages = [
        ChatMessage(role=MessageRole.USER, content="pay my card"),
        ChatMessage(role=MessageRole.ASSISTANT, content=assistant_said),
        ChatMessage(role=MessageRole.USER, content=user_says),
    ]
    answer = reply(messages, tools=TOOLS, bank_name="Fintalk Bank", today=date(2026, 12, 1))
    return [block.tool_name for block in answer.blocks if isinstance(block, ToolCallBlock)]


READBACK = phrases.readback(
    summary="move $200.00 from your Savings ending 3029 to your Checking ending 3011 today",
    reference="FT-ABCDEFGH",
)


def _done() -> str:
    action = PendingAction(
        kind=PendingAction.Kind.TRANSFER,
        status=PendingAction.Status.COMPLETED,
        amount=Decimal("200.00"),
        currency="USD",
        reference="FT-ABCDEFGH",
        from_account=Account(kind="savings", nickname="Savings", last4="3029"),
        to_account=Account(kind="checking", nickname="Checking", last4="3011"),
    )
    return done_text(Confirmation(action=action))


def test_a_yes_after_fintalks_read_back_confirms_and_a_no_cancels():
    assert _after(READBACK).asked_to_confirm
    assert _tools_called(f"Sure. {READBACK}", "yes please") == ["confirm_pending_action"]
    assert _tools_called(READBACK, "no, don't") == ["cancel_pending_action"]


def test_a_done_action_is_recognised_so_a_second_yes_only_repeats_it():
    assert _after(_done()).reported_done
    assert _tools_called(_done(), "yes") == ["confirm_pending_action"]


@pytest.mark.parametrize(
    "asked", [VERIFY_FIRST, VERIFY_FIRST_WITH_PHONE, f"{NOT_SAID} You have 2 more tries: please tell me {phrases.ASK_VERIFICATION}."]
)
def test_every_request_for_details_is_recognised(asked):
    assert _after(asked).asked_to_verify


def test_the_lockout_offers_a_human_and_a_yes_takes_it():
    assert _after(locked_text()).offered_human
    assert _tools_called(locked_text(), "yes") == ["transfer_to_human"]


def test_a_verification_and_a_read_back_note_are_recognised():
    assert phrases.reports_verified(phrases.verified("Ana"))
    assert phrases.is_readback_note(phrases.readback_note(READBACK))
    assert not phrases.is_readback_note(READBACK)


@pytest.mark.parametrize(
    "phrase",
    [
        phrases.CONFIRM_PROMPT,
        "say yes to confirm",
        "your reference number is",
        phrases.ASK_VERIFICATION,
        phrases.OFFER_HUMAN,
        phrases.VERIFIED,
        "Fintalk reads this back to the caller itself",
    ],
)
def test_no_module_copies_a_shared_phrase(phrase):
    copies = [
        str(path.relative_to(ROOT))
        for folder in ("agents", "bank", "api", "conversations")
        for path in (ROOT / folder).rglob("*.py")
        if path.name != "phrases.py" and phrase.lower() in path.read_text().lower()
    ]
    assert copies == []
