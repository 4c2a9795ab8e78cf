"""From a validated OpenAI request to the agent's turn, and back to OpenAI's formats."""

import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import StreamingHttpResponse
from django.utils import timezone

from agents.answering import Answered, answer_turn
from agents.client_tools import client_tools_from_request
from agents.events import ClientToolCall, TextDelta, ToolFinished, ToolStarted, TurnEvent
from agents.providers import GenerationParams, LLMProvider
from agents.runner import Turn
from agents.tools import BANK_TOOL_NAMES
from api.errors import error_body
from api.identity import caller_from_request, call_info
from api.messages import to_chat_message, transcript_entry
from api.models import ApiKey
from api.ratelimit import tokens_spend
from api.pump import EventPump, KeepAlive
from api.sse import KEEPALIVE_COMMENT, ChunkWriter, Framing
from conversations.services import ConversationRecord
from fintalk import errors
from fintalk.observability import (
    OPEN_STREAMS,
    TIME_TO_FIRST_TOKEN,
    TOKENS,
    TOOL_DURATION,
    UPSTREAM_ERRORS,
)


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
    provider: str
    started: float
    events: AsyncIterator[TurnEvent]


def start_completion(
    data: dict,
    raw: dict,
    *,
    api_key: ApiKey,
    provider: LLMProvider,
    started: float,
    conversation_header: str = "",
    channel: str | None = None,
) -> Completion:
    """Build the turn and its log record, and start answering (lazily).

    ``conversation_header`` is the request's ``X-Conversation-Id``, one of the ways a
    client names its conversation (see ``api.identity``); ``channel`` is the log's
    channel when the transport decides it (``mqtt``), else read from the request.
    """
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
        api_key_id=api_key.pk,
        conversation_header=conversation_header,
    )
    info = call_info(raw)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    stream = data.get("stream", True)
    record = ConversationRecord(
        completion_id=completion_id,
        channel=channel or info.channel,
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
        provider=provider.name,
        started=started,
        events=answer_turn(turn, provider=provider, params=params, record=record, started=started),
    )


def _observe_first_token(completion: Completion) -> None:
    TIME_TO_FIRST_TOKEN.labels(completion.provider).observe(time.perf_counter() - completion.started)


def observe_error(provider: str, error: errors.FintalkError) -> None:
    if isinstance(error, errors.UpstreamError):
        UPSTREAM_ERRORS.labels(provider, error.code or error.type).inc()


async def _spend(completion: Completion, answered: Answered) -> None:
    usage = answered.usage
    TOKENS.labels(completion.provider, "prompt").inc(usage.prompt_tokens)
    TOKENS.labels(completion.provider, "completion").inc(usage.completion_tokens)
    await tokens_spend(api_key=completion.api_key, tokens=usage.total_tokens)


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


SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


async def streaming_response(
    completion: Completion,
    *,
    framing: Framing | None = None,
    on_answered: Callable[[str], Awaitable[None]] | None = None,
) -> StreamingHttpResponse:
    """Start answering and return the SSE response once the first event exists.

    Headers wait for the first event (or the first keep-alive), so that a fast failure
    still gets its real HTTP status (502, 504...) instead of a 200 stream.
    """
    pump = start_pump(completion)
    try:
        first = await pump.next()
    except BaseException as error:
        await pump.aclose()
        if isinstance(error, errors.FintalkError):
            observe_error(completion.provider, error)
        raise
    return StreamingHttpResponse(
        sse_stream(completion, pump, first, framing=framing, on_answered=on_answered),
        content_type="text/event-stream",
        headers=SSE_HEADERS,
    )


async def sse_stream(
    completion: Completion,
    pump: EventPump,
    first: TurnEvent | KeepAlive,
    *,
    framing: Framing | None = None,
    on_answered: Callable[[str], Awaitable[None]] | None = None,
) -> AsyncIterator[bytes]:
    """The SSE stream (OpenAI framing unless another is given).

    A failure after the first byte ends the stream with an error event. ``on_answered``
    receives the whole answer once it is complete (session endpoints keep history).
    """
    writer = framing or ChunkWriter(
        completion_id=completion.id, created=completion.created, model=completion.model
    )
    answer: list[str] | None = [] if on_answered else None
    opening = writer.role()
    if opening:
        yield opening
    tool_index = 0
    first_token_seen = False
    event: TurnEvent | KeepAlive | None = first
    OPEN_STREAMS.inc()
    try:
        while event is not None:
            if isinstance(event, TextDelta):
                if not first_token_seen:
                    first_token_seen = True
                    _observe_first_token(completion)
                if answer is not None:
                    answer.append(event.text)
                yield writer.content(event.text)
            elif isinstance(event, ToolStarted):
                activity = writer.tool_activity(call_id=event.id, name=event.name, finished=False, ok=True)
                if activity:
                    yield activity
            elif isinstance(event, ToolFinished):
                TOOL_DURATION.labels(event.name).observe(event.duration_ms / 1000)
                activity = writer.tool_activity(
                    call_id=event.id, name=event.name, finished=True, ok=not event.is_error
                )
                if activity:
                    yield activity
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
                await _spend(completion, event)
                if on_answered is not None:
                    await on_answered("".join(answer))
            event = await pump.next()
    except errors.FintalkError as error:
        observe_error(completion.provider, error)
        yield writer.error(error_body(error.message, type=error.type, param=error.param, code=error.code))
    finally:
        OPEN_STREAMS.dec()
        await pump.aclose()
    closing = writer.done()
    if closing:
        yield closing


async def collect(completion: Completion) -> dict:
    """The non-streaming ``chat.completion`` reply."""
    text: list[str] = []
    tool_calls: list[dict] = []
    finished: Answered | None = None
    pump = start_pump(completion)
    try:
        events = [event async for event in _events(pump)]
    except errors.FintalkError as error:
        observe_error(completion.provider, error)
        raise
    finally:
        await pump.aclose()
    for event in events:
        if isinstance(event, TextDelta):
            if not text:
                _observe_first_token(completion)
            text.append(event.text)
        elif isinstance(event, ToolFinished):
            TOOL_DURATION.labels(event.name).observe(event.duration_ms / 1000)
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
    await _spend(completion, finished)
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

