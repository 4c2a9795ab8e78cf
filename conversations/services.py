"""Writing turn logs: every turn leaves exactly one row, whatever it contains.

``turn_logs_write`` stores a batch of finished ``TurnRecord``s (``conversations.recording``)
in one transaction, each turn in its own savepoint: a turn that cannot be stored as it is
is stored in a reduced form instead, and never takes the others down with it. It runs on
the background writer (``conversations.writer``), never on a request's path.

Every stored text passes through ``_Stored.text`` — the one place where card numbers are
masked and what a database cannot hold is replaced: lone surrogates (no UTF-8 for them),
NUL characters (PostgreSQL refuses them in text and jsonb), NaN and ±Infinity in tool
arguments (neither SQLite's JSON check nor jsonb accept them), values JSON has no type for,
and text longer than its column. Each replacement is noted in ``Turn.replaced``.
"""

import logging
import math
from dataclasses import replace
from datetime import timedelta

from django.apps import apps
from django.db import DataError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from bank.models import Customer
from conversations.models import Conversation, Message, Status, ToolCall, Turn
from conversations.recording import TurnRecord
from fintalk.masking import mask_card_numbers, mask_card_numbers_in
from fintalk.tracing import trace_context_attached

logger = logging.getLogger(__name__)

REPLACEMENT = "\N{REPLACEMENT CHARACTER}"


class _Stored:
    """Makes values storable, noting what had to be replaced (``notes``)."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def _note(self, where: str, what: str) -> None:
        note = f"{where}: {what}"
        if note not in self.notes:
            self.notes.append(note)

    def text(self, value: object, where: str, *, limit: int | None = None) -> str:
        """``value`` as text any supported database stores, card numbers masked."""
        text = value if isinstance(value, str) else ("" if value is None else str(value))
        if "\x00" in text:
            text = text.replace("\x00", REPLACEMENT)
            self._note(where, "NUL characters replaced by U+FFFD")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = "".join(REPLACEMENT if "\ud800" <= ch <= "\udfff" else ch for ch in text)
            self._note(where, "lone surrogates replaced by U+FFFD")
        text = mask_card_numbers(text)
        if limit is not None and len(text) > limit:
            text = text[:limit]
            self._note(where, f"cut to {limit} characters")
        return text

    def json(self, value: object, where: str) -> object:
        """``value`` as JSON any supported database stores (strings as by ``text``)."""
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int):
            return mask_card_numbers_in(value)  # a model may write a card number as a number
        if isinstance(value, float):
            if math.isfinite(value):
                return value
            spelled = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
            self._note(where, f"{spelled} stored as the string {spelled!r}")
            return spelled
        if isinstance(value, str):
            return self.text(value, where)
        if isinstance(value, dict):
            return {
                self.text(key, where): self.json(item, f"{where}.{key}") for key, item in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [self.json(item, f"{where}[{index}]") for index, item in enumerate(value)]
        self._note(where, f"{type(value).__name__} stored as its text")
        return self.text(value, where)


def _earliest_new(messages: tuple[tuple[str, str], ...]) -> int:
    """Index of the first message this turn added: the ones after its last assistant message."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index][0] == "assistant":
            return index + 1
    return 0


def _conversation_for(record: TurnRecord, stored: _Stored, *, ended_at) -> Conversation:
    """The turn's conversation, created with the turn when it is the first, and locked."""
    facts = record.facts
    key = stored.text(facts.conversation_key, "conversation key", limit=160)
    if key:
        found = (
            Conversation.objects.select_for_update().filter(api_key_id=facts.api_key_id, key=key).first()
        )
        if found is not None:
            return found
    fields = {
        "api_key_id": facts.api_key_id,
        "key": key,
        "external_id": stored.text(facts.external_id, "conversation id", limit=128),
        "channel": facts.channel,
        "caller_phone": stored.text(facts.caller_phone, "caller phone", limit=20),
        "caller_asserted": facts.caller_asserted,
        "started_at": facts.started_at,
        "last_activity_at": ended_at,
        "status": record.status,
    }
    if not key:
        return Conversation.objects.create(**fields)
    try:
        with transaction.atomic():
            return Conversation.objects.create(**fields)
    except IntegrityError:
        # Another worker process wrote the conversation's first turn meanwhile.
        return Conversation.objects.select_for_update().get(api_key_id=facts.api_key_id, key=key)


def _customer_id(record: TurnRecord) -> int | None:
    """The turn's customer: the one its tools acted for, else the one a trusted channel named."""
    facts = record.facts
    if record.customer_id is not None or not (facts.caller_asserted and facts.caller_phone):
        return record.customer_id
    return Customer.objects.filter(phone=facts.caller_phone).values_list("pk", flat=True).first()


def _turn_columns(record: TurnRecord, stored: _Stored) -> dict:
    """The turn's columns that even a reduced row keeps (``_reduced_write``)."""
    facts = record.facts
    return {
        "completion_id": stored.text(facts.completion_id, "completion id", limit=64),
        "channel": facts.channel,
        "provider": stored.text(facts.provider, "provider", limit=32),
        "model": stored.text(facts.model, "model", limit=128),
        "answered_by": stored.text(record.answered_by, "answered by", limit=32),
        "streamed": facts.streamed,
        "status": record.status,
        "error": stored.text(record.error, "error"),
        "started_at": facts.started_at,
        "time_to_first_token_ms": record.time_to_first_token_ms,
        "duration_ms": record.duration_ms,
        "prompt_tokens": record.prompt_tokens,
        "completion_tokens": record.completion_tokens,
        "usage_estimated": record.usage_estimated,
        "generated_chars": record.generated_chars,
    }


def _turn_write(record: TurnRecord) -> Turn:
    facts = record.facts
    stored = _Stored()
    ended_at = facts.started_at + timedelta(milliseconds=record.duration_ms)
    conversation = _conversation_for(record, stored, ended_at=ended_at)
    position = conversation.turn_count + 1
    turn = Turn(
        conversation=conversation,
        position=position,
        **_turn_columns(record, stored),
        trace_id=facts.trace_id,
        caller_phone=stored.text(facts.caller_phone, "caller phone", limit=20),
        caller_asserted=facts.caller_asserted,
        customer_id=_customer_id(record),
        answered_model=stored.text(record.answered_model, "answered model", limit=128),
        provider_failures=stored.json(record.provider_failures, "provider failures"),
        finish_reason=stored.text(record.finish_reason, "finish reason", limit=16),
    )
    first_new = _earliest_new(facts.messages)
    messages = [
        Message(
            turn=turn,
            position=position,
            role=stored.text(role, f"message {position + 1} role", limit=16),
            content=stored.text(content, f"message {position + 1}"),
            earlier=position < first_new,
        )
        for position, (role, content) in enumerate(facts.messages)
    ]
    tool_calls = [
        ToolCall(
            turn=turn,
            position=len(messages) + index,
            name=stored.text(call.name, f"tool call {index + 1} name", limit=128),
            arguments=stored.json(call.arguments, f"tool call {index + 1} ({call.name}) arguments"),
            result=stored.text(call.result, f"tool call {index + 1} ({call.name}) result"),
            error=stored.text(call.error, f"tool call {index + 1} ({call.name}) error"),
            duration_ms=call.duration_ms,
        )
        for index, call in enumerate(record.tool_calls)
    ]
    if record.answer or record.status == Status.COMPLETED:
        messages.append(
            Message(
                turn=turn,
                position=len(messages) + len(tool_calls),
                role="assistant",
                content=stored.text(record.answer, "answer"),
                is_answer=True,
            )
        )
    turn.replaced = stored.notes
    turn.save(force_insert=True)
    Message.objects.bulk_create(messages)
    ToolCall.objects.bulk_create(tool_calls)
    _conversation_extend(conversation, turn, ended_at=ended_at)
    return turn


def _conversation_extend(conversation: Conversation, turn: Turn, *, ended_at) -> None:
    """Count the turn into its conversation's columns (the latest turn sets the status)."""
    changes: dict = {
        "turn_count": F("turn_count") + 1,
        "prompt_tokens": F("prompt_tokens") + turn.prompt_tokens,
        "completion_tokens": F("completion_tokens") + turn.completion_tokens,
    }
    if ended_at >= conversation.last_activity_at or conversation.turn_count == 0:
        changes.update(last_activity_at=ended_at, status=turn.status, answered_by=turn.answered_by)
    if turn.customer_id is not None:
        changes["customer_id"] = turn.customer_id
    if turn.caller_phone and (turn.caller_asserted or not conversation.caller_phone):
        changes.update(caller_phone=turn.caller_phone, caller_asserted=turn.caller_asserted)
    Conversation.objects.filter(pk=conversation.pk).update(**changes)


def _reduced_write(record: TurnRecord, failure: Exception) -> Turn:
    """The turn without its transcript and tool calls, when it could not be stored whole."""
    facts = record.facts
    stored = _Stored()
    ended_at = facts.started_at + timedelta(milliseconds=record.duration_ms)
    conversation = _conversation_for(record, stored, ended_at=ended_at)
    turn = Turn.objects.create(
        conversation=conversation,
        position=conversation.turn_count + 1,
        **_turn_columns(record, stored),
        replaced=[
            *stored.notes,
            stored.text(
                f"transcript and tool calls: not stored ({type(failure).__name__}: {failure})", "note"
            ),
        ],
    )
    _conversation_extend(conversation, turn, ended_at=ended_at)
    return turn


_RECORD_ERRORS = (DataError, IntegrityError, ValueError, TypeError, UnicodeError)


def _store(record: TurnRecord, *, keys_used: set[int]) -> Turn:
    """One turn, whole or else reduced, inside the caller's transaction; its writes join
    the request's trace. Its API key is marked used unless ``keys_used`` has it already."""
    with trace_context_attached(record.facts.trace_context):
        try:
            with transaction.atomic():
                turn = _turn_write(record)
        except _RECORD_ERRORS as failure:
            logger.exception("Turn %s stored without its transcript", record.facts.completion_id)
            with transaction.atomic():
                turn = _reduced_write(record, failure)
        key = record.facts.api_key_id
        if key is not None and key not in keys_used:
            keys_used.add(key)
            # By name, not by import: conversations/ records, it does not depend on api/.
            apps.get_model("api", "ApiKey").objects.filter(pk=key).update(last_used_at=timezone.now())
        return turn


def _alone(record: TurnRecord) -> Turn:
    """One turn in its own transaction; without its API key and customer if those have
    gone meanwhile (a reference SQLite checks only when the transaction commits)."""
    try:
        with transaction.atomic():
            return _store(record, keys_used=set())
    except (DataError, IntegrityError) as failure:
        logger.exception("Turn %s stored without its API key and customer", record.facts.completion_id)
        detached = replace(record, facts=replace(record.facts, api_key_id=None), customer_id=None)
        with transaction.atomic():
            return _reduced_write(detached, failure)


def turn_logs_write(*, records: list[TurnRecord]) -> list[Turn]:
    """Store ``records``, each as exactly one turn row: all in one transaction, or one
    transaction each when that one fails (see ``_store`` and ``_alone``).

    Raises only what is no turn's fault — ``OperationalError``/``InterfaceError`` (the
    database is down or locked) — having stored none of them, so the caller can retry.
    """
    try:
        with transaction.atomic():
            keys_used: set[int] = set()
            return [_store(record, keys_used=keys_used) for record in records]
    except (DataError, IntegrityError):
        return [_alone(record) for record in records]


def turn_log_write(*, record: TurnRecord) -> Turn:
    """Store one record now, on this thread (tests, commands); see ``turn_logs_write``."""
    (turn,) = turn_logs_write(records=[record])
    turn.conversation.refresh_from_db()
    return turn
