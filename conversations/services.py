"""Writing conversation logs: one transaction per request, after the answer is sent."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from api.models import ApiKey
from conversations.models import Conversation, Message, ToolCall
from fintalk.masking import mask_card_numbers, mask_card_numbers_in


@dataclass
class ToolCallRecord:
    name: str
    arguments: dict
    result: str = ""
    error: str = ""
    duration_ms: float | None = None


@dataclass
class ConversationRecord:
    """Everything known about one request, gathered while it ran."""

    completion_id: str
    channel: str
    provider: str
    model: str
    streamed: bool
    started_at: datetime
    messages: list[tuple[str, str]]
    api_key_id: int | None = None
    external_call_id: str = ""
    caller_phone: str = ""
    caller_asserted: bool = False
    customer_id: int | None = None
    status: str = Conversation.Status.COMPLETED
    finish_reason: str = ""
    error: str = ""
    answer: str = ""
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    time_to_first_token_ms: float | None = None
    duration_ms: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    usage_estimated: bool = True
    answered_by: str = ""
    answered_model: str = ""
    provider_failures: list[dict] = field(default_factory=list)


@transaction.atomic
def conversation_log_write(*, record: ConversationRecord) -> Conversation:
    conversation = Conversation.objects.create(
        completion_id=record.completion_id,
        channel=record.channel,
        external_call_id=record.external_call_id[:128],
        caller_phone=record.caller_phone,
        caller_asserted=record.caller_asserted,
        customer_id=record.customer_id,
        api_key_id=record.api_key_id,
        provider=record.provider,
        model=record.model[:128],
        answered_by=record.answered_by,
        answered_model=record.answered_model[:128],
        provider_failures=mask_card_numbers_in(record.provider_failures),
        streamed=record.streamed,
        status=record.status,
        finish_reason=record.finish_reason,
        error=mask_card_numbers(record.error),
        started_at=record.started_at,
        time_to_first_token_ms=record.time_to_first_token_ms,
        duration_ms=record.duration_ms,
        prompt_tokens=record.prompt_tokens,
        completion_tokens=record.completion_tokens,
        usage_estimated=record.usage_estimated,
    )
    messages = [
        Message(
            conversation=conversation,
            position=position,
            role=role,
            content=mask_card_numbers(content),
        )
        for position, (role, content) in enumerate(record.messages)
    ]
    position = len(messages)
    tool_calls = []
    for position, call in enumerate(record.tool_calls, start=position):
        tool_calls.append(
            ToolCall(
                conversation=conversation,
                position=position,
                name=call.name,
                arguments=mask_card_numbers_in(call.arguments),
                result=mask_card_numbers(call.result),
                error=mask_card_numbers(call.error),
                duration_ms=call.duration_ms,
            )
        )
    if record.answer or record.status == Conversation.Status.COMPLETED:
        messages.append(
            Message(
                conversation=conversation,
                position=len(record.messages) + len(record.tool_calls),
                role="assistant",
                content=mask_card_numbers(record.answer),
                is_answer=True,
            )
        )
    Message.objects.bulk_create(messages)
    ToolCall.objects.bulk_create(tool_calls)
    if record.api_key_id is not None:
        ApiKey.objects.filter(pk=record.api_key_id).update(last_used_at=timezone.now())
    return conversation
