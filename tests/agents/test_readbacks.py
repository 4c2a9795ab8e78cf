"""The read-back is Fintalk's last words of the answer, and counts only once that answer has
finished: an answer the client abandons half-way delivers nothing."""

import uuid

import pytest
from asgiref.sync import async_to_sync
from llama_index.core.base.llms.types import ChatMessage, MessageRole

from agents import phrases
from agents.answering import Answered, answer_turn
from agents.caller import CallerContext, ConversationRef
from agents.events import ReadBack, TextDelta
from agents.providers import GenerationParams, provider_build
from agents.runner import Turn
from api.keys import api_key_create
from bank.models import PendingAction

pytestmark = pytest.mark.django_db(transaction=True)
ASK = "pay the minimum on my credit card"


def _turn(phone: str) -> Turn:
    key, _ = api_key_create(name="vapi", trusted_channel=True)
    caller = CallerContext(
        phone=phone,
        asserted=True,
        conversation=ConversationRef(key.pk, f"call:{uuid.uuid4().hex}"),
        turn=1,
        latest_user_text=ASK,
        user_texts=(ASK,),
    )
    return Turn(messages=[ChatMessage(role=MessageRole.USER, content=ASK)], caller=caller)


def _answer(turn: Turn, *, stop_at_readback: bool) -> list:
    events: list = []

    async def run() -> None:
        answer = answer_turn(
            turn,
            provider=provider_build("offline"),
            params=GenerationParams(),
            fallbacks=(),
        )
        async for event in answer:
            events.append(event)
            if stop_at_readback and isinstance(event, ReadBack):
                break  # the client went away with the read-back in flight
        await answer.aclose()

    async_to_sync(run)()
    return events


def test_the_read_back_ends_the_answer_and_counts_once_it_finished(demo_bank):
    events = _answer(_turn(demo_bank["Ana Lopez"]["phone"]), stop_at_readback=False)

    readback = next(event for event in events if isinstance(event, ReadBack))
    said = [event for event in events if isinstance(event, TextDelta)]
    assert said[-1] is readback and isinstance(events[-1], Answered)
    action = PendingAction.objects.get()
    assert readback.action_id == action.pk
    assert readback.text.strip() == phrases.readback(summary=action.summary, reference=action.reference)
    assert action.readback_turn == 1 and action.readback_delivered_at is not None


def test_an_answer_abandoned_with_the_read_back_in_flight_delivers_nothing(demo_bank):
    events = _answer(_turn(demo_bank["Ana Lopez"]["phone"]), stop_at_readback=True)

    assert isinstance(events[-1], ReadBack)
    action = PendingAction.objects.get()
    assert action.status == "pending" and action.readback_turn is None
