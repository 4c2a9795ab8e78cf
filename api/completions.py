"""From a validated OpenAI request to the agent's turn, and back to OpenAI's formats."""

import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from agents.answering import Answered, answer_turn
from agents.client_tools import client_tools_from_request
from agents.events import ClientToolCall, TextDelta, TurnEvent
from agents.providers import GenerationParams, LLMProvider
from agents.runner import Turn
from agents.tools import BANK_TOOL_NAMES
from api.errors import error_body
from api.identity import caller_from_request, call_info
from api.messages import to_chat_message, transcript_entry
from api.models import ApiKey
from api.ratelimit import tokens_spend
from api.pump import EventPump, KeepAlive
from api.sse import DONE, KEEPALIVE_COMMENT, ChunkWriter
from conversations.services import ConversationRecord
from fintalk import errors


def known_models(provider: LLMProvider) -> list[str]:
    return [provider.model, *(m for m in settings.LLM_MODEL_ALIASES if m != provider.model)]


def resolve_model(requested: str | None, provider: LLMProvider) -> str:
    if not requested or requested in known_models(provider):
        return requested or provider.model
    raise errors.ModelNotFound(
        f"The model {requested!r} does not exist here. Available: "
        f"{', '.join(known_models(provider))}.",
        param="model",
    )


@dataclass
class Completion:
    """A request ready to answer."""

    id: str
    created: int
    model: str
    stream: bool
    include_usage: bool
    api_key: ApiKey
    events: AsyncIterator[TurnEvent]


def start_completion(
    data: dict, raw: dict, *, api_key: ApiKey, provider: LLMProvider, started: float
) -> Completion:
    """Build the turn and its log record, and start answering (lazily)."""
    model = resolve_model(data.get("model"), provider)
    client_tools = client_tools_from_request(data.get("tools", []))
    clashes = BANK_TOOL_NAMES & {tool.metadata.name for tool in client_tools}
    if clashes:
        raise errors.InvalidRequest(
            f"Tool name(s) {', '.join(sorted(clashes))} are reserved by the bank's own tools.",
            param="tools",
        )
    messages = data["messages"]
    caller = caller_from_request(
        raw,
        trusted=api_key.trusted_channel,
        user_texts=[m["content"] or "" for m in messages if m["role"] == "user"],
    )
    info = call_info(raw)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    stream = data.get("stream", True)
    record = ConversationRecord(
        completion_id=completion_id,
        channel=info.channel,
        external_call_id=info.external_call_id,
        provider=provider.name,
        model=model,
        streamed=stream,
        started_at=timezone.now(),
        messages=[transcript_entry(m) for m in messages],
        api_key_id=api_key.pk,
        caller_phone=caller.phone or "",
        caller_asserted=caller.asserted,
    )
    turn = Turn(
        messages=[to_chat_message(m) for m in messages],
        caller=caller,
        client_tools=client_tools,
        tool_choice=data.get("tool_choice"),
    )
    params = GenerationParams(
        temperature=data.get("temperature"),
        top_p=data.get("top_p"),
        max_tokens=data.get("max_tokens"),
        stop=data.get("stop") or (),
    )
    return Completion(
        id=completion_id,
        created=int(time.time()),
        model=model,
        stream=stream,
        include_usage=bool((data.get("stream_options") or {}).get("include_usage")),
        api_key=api_key,
        events=answer_turn(turn, provider=provider, params=params, record=record, started=started),
    )


async def _events(pump: EventPump) -> AsyncIterator[TurnEvent]:
    while (event := await pump.next()) is not None:
        if not isinstance(event, KeepAlive):
            yield event


def _usage_dict(event: Answered) -> dict:
    usage = event.usage
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def start_pump(completion: Completion) -> EventPump:
    return EventPump(
        completion.events,
        keepalive=settings.SSE_KEEPALIVE_SECONDS,
        first_token_deadline=settings.FIRST_TOKEN_TIMEOUT,
        deadline=settings.REQUEST_TIMEOUT,
    ).start()


async def sse_stream(
    completion: Completion, pump: EventPump, first: TurnEvent | KeepAlive
) -> AsyncIterator[bytes]:
    """The OpenAI SSE stream; a failure after the first byte ends it with an error event."""
    writer = ChunkWriter(completion_id=completion.id, created=completion.created, model=completion.model)
    yield writer.role()
    tool_index = 0
    event: TurnEvent | KeepAlive | None = first
    try:
        while event is not None:
            if isinstance(event, TextDelta):
                yield writer.content(event.text)
            elif isinstance(event, KeepAlive):
                yield KEEPALIVE_COMMENT
            elif isinstance(event, ClientToolCall):
                yield writer.tool_call(
                    tool_index, call_id=event.id, name=event.name, arguments=event.arguments
                )
                tool_index += 1
            elif isinstance(event, Answered):
                yield writer.finish(event.reason)
                if completion.include_usage:
                    yield writer.usage(_usage_dict(event))
                await tokens_spend(api_key=completion.api_key, tokens=event.usage.total_tokens)
            event = await pump.next()
    except errors.FintalkError as error:
        yield writer.error(error_body(error.message, type=error.type, param=error.param, code=error.code))
    finally:
        await pump.aclose()
    yield DONE


async def collect(completion: Completion) -> dict:
    """The non-streaming ``chat.completion`` reply."""
    text: list[str] = []
    tool_calls: list[dict] = []
    finished: Answered | None = None
    pump = start_pump(completion)
    try:
        events = [event async for event in _events(pump)]
    finally:
        await pump.aclose()
    for event in events:
        if isinstance(event, TextDelta):
            text.append(event.text)
        elif isinstance(event, ClientToolCall):
            tool_calls.append(
                {
                    "id": event.id,
                    "type": "function",
                    "function": {"name": event.name, "arguments": json.dumps(event.arguments)},
                }
            )
        elif isinstance(event, Answered):
            finished = event
    assert finished is not None, "answer_turn always ends with Answered"
    await tokens_spend(api_key=completion.api_key, tokens=finished.usage.total_tokens)
    message: dict = {"role": "assistant", "content": "".join(text) if text or not tool_calls else None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": completion.id,
        "object": "chat.completion",
        "created": completion.created,
        "model": completion.model,
        "system_fingerprint": None,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": finished.reason}
        ],
        "usage": _usage_dict(finished),
    }

