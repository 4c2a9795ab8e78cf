"""Storing turns: one row per turn whatever it holds; turns grouped into conversations."""

import math

import pytest
from django.db import DataError

from api.keys import api_key_create
from conversations.models import Conversation, Message, ToolCall, Turn
from conversations.recording import ToolCallRecord
from conversations.services import REPLACEMENT, turn_log_write, turn_logs_write
from tests.conversations.factories import turn_record

pytestmark = pytest.mark.django_db(transaction=True)

AWKWARD = {
    "amount": math.nan,
    "limit": math.inf,
    "floor": -math.inf,
    "memo": "rent \ud800 for May",
    "note": "line\x00two",
    "nested": [{"deep": math.nan, "key\x00": "v"}],
    "when": object(),
}


def test_nan_infinity_lone_surrogates_and_nul_are_stored_replaced_and_noted():
    record = turn_record(
        messages=(("user", "move \udfff300 to savings\x00"),),
        answer="Done.\x00 Reference FT-ABCD2345 \ud83d",
        tool_calls=[
            ToolCallRecord(
                name="transfer_between_accounts",
                arguments=AWKWARD,
                result="Moved $300.00\x00",
                duration_ms=1.5,
            )
        ],
        error="",
    )

    turn = turn_log_write(record=record)

    assert Turn.objects.count() == 1
    (call,) = ToolCall.objects.filter(turn=turn)
    arguments = call.arguments
    assert arguments["amount"] == "NaN" and arguments["limit"] == "Infinity" and arguments["floor"] == "-Infinity"
    assert arguments["memo"] == f"rent {REPLACEMENT} for May"
    assert arguments["note"] == f"line{REPLACEMENT}two"
    assert arguments["nested"] == [{"deep": "NaN", f"key{REPLACEMENT}": "v"}]
    assert arguments["when"].startswith("<object object")
    assert call.result == f"Moved $300.00{REPLACEMENT}"
    question, answer = Message.objects.filter(turn=turn)
    assert question.content == f"move {REPLACEMENT}300 to savings{REPLACEMENT}"
    assert answer.content == f"Done.{REPLACEMENT} Reference FT-ABCD2345 {REPLACEMENT}"
    notes = " | ".join(Turn.objects.get().replaced)
    for expected in (
        "amount: NaN stored as the string 'NaN'",
        "limit: Infinity stored as the string 'Infinity'",
        "memo: lone surrogates replaced by U+FFFD",
        "note: NUL characters replaced by U+FFFD",
        "when: object stored as its text",
        "message 1: lone surrogates replaced",
        "answer: NUL characters replaced",
    ):
        assert expected in notes


def test_a_turn_that_cannot_be_stored_whole_is_stored_reduced_and_the_batch_survives(monkeypatch):
    first, broken, last = (turn_record(answer=text) for text in ("one", "two", "three"))
    original = ToolCall.objects.bulk_create

    def refuse_for_broken(objects, *args, **kwargs):
        if any(call.name == "breaks" for call in objects):
            raise DataError("value out of range")
        return original(objects, *args, **kwargs)

    broken.tool_calls.append(ToolCallRecord(name="breaks", arguments={}))
    monkeypatch.setattr(ToolCall.objects, "bulk_create", refuse_for_broken)

    turns = turn_logs_write(records=[first, broken, last])

    assert Turn.objects.count() == 3 and len(turns) == 3
    reduced = Turn.objects.get(completion_id=broken.facts.completion_id)
    assert not reduced.messages.exists() and not reduced.tool_calls.exists()
    assert "transcript and tool calls: not stored (DataError: value out of range)" in reduced.replaced
    assert Message.objects.filter(turn__completion_id=last.facts.completion_id, is_answer=True).get().content == "three"


def test_turns_naming_one_conversation_with_one_key_are_one_conversation():
    vapi, _ = api_key_create(name="vapi")
    web, _ = api_key_create(name="web")
    records = [
        turn_record(api_key_id=vapi.pk, conversation_key="call:abc", prompt_tokens=100 * n, completion_tokens=n)
        for n in (1, 2, 3)
    ]
    records += [
        turn_record(api_key_id=web.pk, conversation_key="call:abc"),
        turn_record(api_key_id=vapi.pk),
        turn_record(api_key_id=vapi.pk),
    ]

    turn_logs_write(records=records)

    call = Conversation.objects.get(api_key=vapi, key="call:abc")
    assert call.external_id == "abc" and call.turn_count == 3
    assert list(call.turns.values_list("position", flat=True)) == [1, 2, 3]
    assert (call.prompt_tokens, call.completion_tokens) == (600, 6)
    assert Conversation.objects.get(api_key=web, key="call:abc").turn_count == 1
    assert Conversation.objects.filter(key="").count() == 2
    assert Conversation.objects.count() == 4


def test_messages_carried_from_earlier_turns_are_marked():
    record = turn_record(
        messages=(("system", "Be brief."), ("user", "hi"), ("assistant", "Hello!"), ("user", "balance?"))
    )

    turn = turn_log_write(record=record)

    assert [(m.role, m.earlier) for m in turn.messages.all()] == [
        ("system", True),
        ("user", True),
        ("assistant", True),
        ("user", False),
        ("assistant", False),
    ]


def test_a_turn_whose_api_key_was_deleted_meanwhile_is_stored_without_it():
    kept, _ = api_key_create(name="kept")
    gone, _ = api_key_create(name="gone")
    records = [
        turn_record(api_key_id=kept.pk, conversation_key="call:kept"),
        turn_record(api_key_id=gone.pk, conversation_key="call:gone"),
    ]
    gone.delete()

    turn_logs_write(records=records)

    assert Turn.objects.count() == 2
    orphan = Turn.objects.get(completion_id=records[1].facts.completion_id)
    assert orphan.conversation.api_key_id is None
    assert Turn.objects.get(completion_id=records[0].facts.completion_id).conversation.api_key_id == kept.pk
