"""Turn records as the reply loop finishes them, for tests that store them directly."""

import time
import uuid

from django.utils import timezone

from conversations.recording import ToolCallRecord, TurnFacts, TurnRecord


def turn_record(
    *,
    api_key_id: int | None = None,
    conversation_key: str = "",
    messages: tuple[tuple[str, str], ...] = (("user", "hi"),),
    answer: str = "hello",
    tool_calls: list[ToolCallRecord] | None = None,
    prompt_tokens: int = 10,
    completion_tokens: int = 2,
    **fields,
) -> TurnRecord:
    facts = TurnFacts(
        completion_id=f"chatcmpl-{uuid.uuid4().hex}",
        channel="api",
        provider="offline",
        model="fintalk-offline",
        streamed=False,
        started_at=timezone.now(),
        started=time.perf_counter(),
        messages=messages,
        api_key_id=api_key_id,
        conversation_key=conversation_key,
        external_id=conversation_key.partition(":")[2],
    )
    return TurnRecord(
        facts=facts,
        answer=answer,
        tool_calls=tool_calls or [],
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        duration_ms=12.345,
        **fields,
    )
