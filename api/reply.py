"""The one reply loop: an answer's events, observed once, written in any framing.

Every endpoint's reply — OpenAI SSE, the session endpoints' SSE, one JSON document —
comes out of ``reply_frames``: it measures the first token and tool durations, spends the
tokens, reports errors and hands each event to the framing (``api.framing``). Only the
framing differs between them. It also hands every event to the turn's recorder
(``conversations.recording``), says what reached the client, and closes the record once
the reply is over (``reply_close``), whatever happened.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse

from agents.answering import Answered
from agents.events import ClientToolCall, TextDelta, ToolFinished, ToolStarted, TurnEvent
from api.completions import Completion
from api.errors import error_body
from api.framing import ChatCompletionJson, Framing
from api.pump import EventPump, KeepAlive
from api.ratelimit import tokens_spend
from api.sse import ChunkWriter
from fintalk import errors
from fintalk.observability import OPEN_STREAMS, TIME_TO_FIRST_TOKEN, TOKENS, TOOL_DURATION, UPSTREAM_ERRORS

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

OnAnswered = Callable[[str], Awaitable[None]]


def observe_error(provider: str, error: errors.FintalkError) -> None:
    if isinstance(error, errors.UpstreamError):
        UPSTREAM_ERRORS.labels(provider, error.code or error.type).inc()


def usage_dict(event: Answered) -> dict:
    """OpenAI's ``usage`` object for a finished answer."""
    usage = event.usage
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


async def _spend(completion: Completion, answered: Answered) -> None:
    usage = answered.usage
    TOKENS.labels(completion.provider, "prompt").inc(usage.prompt_tokens)
    TOKENS.labels(completion.provider, "completion").inc(usage.completion_tokens)
    await tokens_spend(api_key=completion.api_key, tokens=usage.total_tokens)


def start_pump(completion: Completion) -> EventPump:
    """Start answering ``completion`` in its own task, with the configured deadlines."""
    return EventPump(
        completion.events,
        keepalive=settings.SSE_KEEPALIVE_SECONDS,
        first_token_deadline=settings.FIRST_TOKEN_TIMEOUT,
        deadline=settings.REQUEST_TIMEOUT,
    ).start()


async def reply_start(completion: Completion) -> tuple[EventPump, TurnEvent | KeepAlive | None]:
    """Start answering; return the pump and its first event (or keep-alive).

    Raises the answer's error if it fails before its first event, so that a fast failure
    still gets its real HTTP status (502, 504...) instead of a 200 stream.
    """
    pump = start_pump(completion)
    try:
        first = await pump.next()
    except BaseException as error:
        await reply_close(completion, pump, error)
        if isinstance(error, errors.FintalkError):
            observe_error(completion.provider, error)
        raise
    return pump, first


async def reply_frames(
    completion: Completion,
    pump: EventPump,
    first: TurnEvent | KeepAlive | None,
    framing: Framing,
    *,
    on_answered: OnAnswered | None = None,
) -> AsyncIterator[bytes]:
    """The reply's bytes in ``framing``, from the first event on (see ``reply_start``).

    A failure is framed as an error event when the framing streams, and raised otherwise.
    ``on_answered`` receives the whole answer's text once it is complete (the session
    endpoints keep history with it).
    """
    answer: list[str] | None = [] if on_answered else None
    tool_index = 0
    first_token_seen = False
    event: TurnEvent | KeepAlive | None = first
    recorder = completion.recorder
    ended: BaseException | None = None
    if framing.streams:
        OPEN_STREAMS.inc()
    try:
        if (opening := framing.opening()) is not None:
            yield opening
        while event is not None:
            frame = None
            if not isinstance(event, KeepAlive):
                recorder.feed(event)
            if isinstance(event, TextDelta):
                if not first_token_seen:
                    first_token_seen = True
                    TIME_TO_FIRST_TOKEN.labels(completion.provider).observe(time.perf_counter() - completion.started)
                if answer is not None:
                    answer.append(event.text)
                frame = framing.content(event.text)
                if framing.streams:
                    # Taken by the server once yielded: a hang-up surfaces at a later await.
                    recorder.sent(event.text)
            elif isinstance(event, ToolStarted):
                frame = framing.tool_activity(call_id=event.id, name=event.name, finished=False, ok=True)
            elif isinstance(event, ToolFinished):
                TOOL_DURATION.labels(event.name).observe(event.duration_ms / 1000)
                frame = framing.tool_activity(call_id=event.id, name=event.name, finished=True, ok=not event.is_error)
            elif isinstance(event, KeepAlive):
                frame = framing.keepalive()
            elif isinstance(event, ClientToolCall):
                frame = framing.tool_call(tool_index, call_id=event.id, name=event.name, arguments=event.arguments)
                tool_index += 1
            elif isinstance(event, Answered):
                frame = framing.finish(event.reason, usage_dict(event))
                await _spend(completion, event)
                if on_answered is not None:
                    await on_answered("".join(answer))
            if frame is not None:
                yield frame
            event = await pump.next()
    except errors.FintalkError as error:
        ended = error
        observe_error(completion.provider, error)
        if not framing.streams:
            raise
        yield framing.error(error_body(error.message, type=error.type, param=error.param, code=error.code))
    except BaseException as error:
        ended = error
        raise
    finally:
        if framing.streams:
            OPEN_STREAMS.dec()
        elif ended is None:
            recorder.sent_everything()  # the document goes out whole, next
        await reply_close(completion, pump, ended)
    if (closing := framing.closing()) is not None:
        yield closing


async def reply_close(completion: Completion, pump: EventPump, ended: BaseException | None) -> None:
    """Stop the answer and close its record: completed (``ended`` None), cancelled
    (``CancelledError``/``GeneratorExit``: the client went away, the server is closing
    the response) or failed (any other exception). Closing again changes nothing, so a
    transport may call it also when its reply never began."""
    await pump.aclose()
    for event in pump.leftover():
        completion.recorder.feed(event)
    cancelled = isinstance(ended, (asyncio.CancelledError, GeneratorExit))
    completion.recorder.finish(error=None if cancelled else ended, cancelled=cancelled)


def openai_framing(completion: Completion) -> Framing:
    """OpenAI's framing for ``completion``: chunks when it streams, else one chat.completion."""
    if completion.stream:
        return ChunkWriter(
            completion_id=completion.id,
            created=completion.created,
            model=completion.model,
            include_usage=completion.include_usage,
        )
    return ChatCompletionJson(completion_id=completion.id, created=completion.created, model=completion.model)


async def reply_response(
    completion: Completion, framing: Framing, *, on_answered: OnAnswered | None = None
) -> HttpResponse:
    """The HTTP response answering ``completion`` in ``framing``.

    A streaming framing's response is returned once the first event exists (its status
    is then 200); a document is returned whole. Errors before the first byte raise
    ``FintalkError`` (mapped to the OpenAI envelope by ``api.errors``).
    """
    pump, first = await reply_start(completion)
    frames = reply_frames(completion, pump, first, framing, on_answered=on_answered)
    if framing.streams:
        return StreamingHttpResponse(frames, content_type="text/event-stream", headers=SSE_HEADERS)
    body = b"".join([frame async for frame in frames])
    return HttpResponse(body, content_type=framing.content_type)
