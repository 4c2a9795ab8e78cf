"""Migrating to conversations with turns keeps every existing log."""

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("conversations", "0002_conversation_provider_fallbacks")]
AFTER = [("conversations", "0003_conversations_with_turns")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_each_old_log_becomes_a_one_turn_conversation_with_the_same_id():
    old = migrate(BEFORE)
    ApiKey = old.get_model("api", "ApiKey")
    OldConversation = old.get_model("conversations", "Conversation")
    key = ApiKey.objects.create(name="vapi", prefix="ft_old", hashed_key="x" * 64)
    logs = []
    for index, call_id in enumerate(("call-1", "call-1", "")):
        log = OldConversation.objects.create(
            id=uuid.uuid4(),
            completion_id=f"chatcmpl-{index}",
            channel="vapi" if call_id else "api",
            external_call_id=call_id,
            caller_phone="+14155550101",
            api_key=key,
            provider="offline",
            model="fintalk-offline",
            status="completed",
            started_at=timezone.now(),
            duration_ms=12.5,
            prompt_tokens=100,
            completion_tokens=10,
        )
        log.messages.create(position=0, role="user", content=f"question {index}")
        log.tool_calls.create(position=1, name="get_account_balances", arguments={}, result="ok")
        logs.append(log)

    new = migrate(AFTER)

    Conversation = new.get_model("conversations", "Conversation")
    Turn = new.get_model("conversations", "Turn")
    assert Conversation.objects.count() == 3 and Turn.objects.count() == 3
    for index, log in enumerate(logs):
        conversation = Conversation.objects.get(pk=log.pk)
        (turn,) = Turn.objects.filter(conversation=conversation)
        assert turn.pk == log.pk and turn.completion_id == f"chatcmpl-{index}" and turn.position == 1
        assert (conversation.external_id, conversation.api_key_id) == (log.external_call_id, key.pk)
        assert conversation.turn_count == 1 and conversation.prompt_tokens == 100
        assert [m.content for m in turn.messages.all()] == [f"question {index}"]
        assert [t.name for t in turn.tool_calls.all()] == ["get_account_balances"]
