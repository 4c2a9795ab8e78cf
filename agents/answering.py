"""Answering one request: the agent's events, limited, timed, logged, with fallback.

Every endpoint consumes ``answer_turn``. It applies ``stop``/``max_tokens``, measures time
to first token, and writes the conversation log once, after the answer, whatever happened
(completed, failed, or the client went away), never once per token.

When the provider fails before the client has been told anything, the next provider of
``LLM_FALLBACKS`` answers the same turn; when every one has failed, a short apology that a
voice can speak does. Once words have been sent, a failure ends the answer with an error:
a second provider's answer is never spliced onto the first one's beginning.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async

from agents.events import (
    ClientToolCall,
    Finished,
    TextDelta,
    ToolFinished,
    TurnEvent,
    UsageReported,
)
from agents.limits import OutputLimits
from agents.providers import GenerationParams, LLMProvider, provider_fallbacks
from agents.providers.health import provider_failure_note
from agents.response_format import answer_format_problem
from agents.readbacks import readback_delivered, readback_event
from agents.runner import Turn, run_agent
from agents.tokens import count_prompt_tokens, count_tokens
from conversations.models import Conversation
from conversations.services import ConversationRecord, ToolCallRecord, conversation_log_write
from fintalk import errors
from fintalk.text import OFF_LOOP_THRESHOLD

logger = logging.getLogger(__name__)

# The message a deadline cancels an answer with (``api.pump``): the log then says error,
# not cancelled. Followed by ": " and what took too long.
DEADLINE_CANCEL = "fintalk-deadline"

APOLOGY = "I'm sorry, I can't answer that right now. Please try again in a moment."
# ``Conversation.answered_by`` when no provider could answer and the apology was sent.
ANSWERED_BY_APOLOGY = "apology"


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    estimated: bool

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class Answered(Finished):
    """The final event of ``answer_turn``: why the answer ended, and what it cost."""

    usage: Usage | None = None


@dataclass
class _Attempt:
    """One provider's try at the answer."""

    provider: LLMProvider
    spoke: bool = False  # the client has been sent words or a tool call from this provider
    reported: list[UsageReported] = field(default_factory=list)


async def answer_turn(
    turn: Turn,
    *,
    provider: LLMProvider,
    params: GenerationParams,
    record: ConversationRecord,
    started: float,
    fallbacks: Sequence[LLMProvider] | None = None,
) -> AsyncIterator[TurnEvent]:
    """Yield the turn's events, ending with ``Answered``; log the conversation at the end.

    ``started`` is the ``time.perf_counter()`` at which the request arrived; ``fallbacks``
    defaults to the providers of ``LLM_FALLBACKS``.
    """
    chain = (provider, *(provider_fallbacks() if fallbacks is None else fallbacks))
    answer: list[str] = []
    record.status = Conversation.Status.ERROR
    try:
        finish = "stop"
        answering: _Attempt | None = None
        for attempt in (_Attempt(candidate) for candidate in chain):
            try:
                async for event in _attempt_events(turn, attempt, params=params):
                    if isinstance(event, Finished):
                        finish = event.reason
                        continue
                    _note(event, attempt=attempt, record=record, answer=answer, started=started)
                    yield event
            except (asyncio.CancelledError, GeneratorExit):
                raise
            except Exception as raised:
                error, misbehaved = _failure(attempt.provider, raised, record=record)
                if misbehaved and attempt.spoke:
                    # Words were sent: end them with the apology rather than a cut.
                    separator = "" if not answer or answer[-1][-1:].isspace() else " "
                    answer.append(separator + APOLOGY)
                    finish = "stop"
                    record.error = "The model failed after it began to answer; the caller heard the apology."
                    yield TextDelta(separator + APOLOGY)
                    answering = attempt
                    break
                if not misbehaved and (
                    attempt.spoke or len(chain) == 1 or isinstance(error, errors.InvalidRequest)
                ):
                    if error is raised:
                        raise
                    raise error from raised
                if misbehaved:
                    record.error = (
                        f"The model's answer could not be used ({type(raised).__name__}: {raised}); "
                        "the caller heard the apology."
                    )
                continue
            answering = attempt
            # Also when it said nothing at all (an empty reply): it answered.
            record.answered_by, record.answered_model = answering.provider.name, answering.provider.model
            record.status = Conversation.Status.COMPLETED
            break
        if answering is None:
            if record.time_to_first_token_ms is None:
                record.time_to_first_token_ms = (time.perf_counter() - started) * 1000
            answer.append(APOLOGY)
            finish = "stop"
            record.answered_by = ANSWERED_BY_APOLOGY
            if not record.error:
                record.error = "Every provider failed before answering; the caller heard the apology."
            yield TextDelta(APOLOGY)
        # A pending action's read-back: Fintalk's words, last, whatever the model said; only
        # in an answer that completed (a failed one delivers nothing).
        completed = record.status == Conversation.Status.COMPLETED
        readback = readback_event(turn.caller, said="".join(answer)) if completed else None
        if readback is not None:
            _note(readback, attempt=answering, record=record, answer=answer, started=started)
            yield readback
        record.answer = "".join(answer)
        if params.response_format is not None and answering is not None and finish != "tool_calls":
            if problem := answer_format_problem(record.answer, params.response_format):
                record.status = Conversation.Status.ERROR
                raise errors.UpstreamError(
                    f"The model's answer does not follow response_format: {problem}.",
                    param="response_format",
                    code="invalid_model_output",
                )
        if sum(len(content) for _, content in record.messages) > OFF_LOOP_THRESHOLD:
            usage = await asyncio.to_thread(_usage, answering, record)  # tokenizing 1 MB: ~0.2 s
        else:
            usage = _usage(answering, record)
        record.prompt_tokens, record.completion_tokens = usage.prompt_tokens, usage.completion_tokens
        record.usage_estimated = usage.estimated
        record.finish_reason = finish
        yield Answered(finish, usage)
        if readback is not None:  # the answer finished: the caller's next turn may confirm
            await readback_delivered(turn.caller, readback)
    except (asyncio.CancelledError, GeneratorExit) as stopped:
        reason = stopped.args[0] if stopped.args and isinstance(stopped.args[0], str) else ""
        if reason.startswith(DEADLINE_CANCEL):
            # Stopped by a deadline: a failure to answer, not a caller who went away.
            record.error = reason.removeprefix(DEADLINE_CANCEL).lstrip(": ")
            logger.error("Answer %s stopped by a deadline: %s", record.completion_id, record.error)
        else:
            record.status = Conversation.Status.CANCELLED
            record.error = "The client went away before the answer was complete."
        raise
    except errors.FintalkError as error:
        record.error = error.message
        raise
    except Exception as error:
        logger.exception("The agent failed")
        record.error = f"{type(error).__name__}: {error}"
        raise errors.FintalkError("The assistant failed while answering; please try again.") from error
    finally:
        record.answer = record.answer or "".join(answer)
        record.duration_ms = (time.perf_counter() - started) * 1000
        record.customer_id = turn.caller.customer_id
        await _write_log(record)


def _note(
    event: TurnEvent, *, attempt: _Attempt, record: ConversationRecord, answer: list[str], started: float
) -> None:
    """Book an event the client is about to receive into the conversation's log record."""
    if isinstance(event, (TextDelta, ClientToolCall)) and not attempt.spoke:
        attempt.spoke = True
        record.answered_by, record.answered_model = attempt.provider.name, attempt.provider.model
    if isinstance(event, TextDelta):
        if record.time_to_first_token_ms is None:
            record.time_to_first_token_ms = (time.perf_counter() - started) * 1000
        answer.append(event.text)
    elif isinstance(event, ClientToolCall):
        record.tool_calls.append(
            ToolCallRecord(name=event.name, arguments=event.arguments, result="(run by the client)")
        )
    elif isinstance(event, ToolFinished):
        record.tool_calls.append(
            ToolCallRecord(
                name=event.name,
                arguments=event.arguments,
                result="" if event.is_error else event.result,
                error=event.result if event.is_error else "",
                duration_ms=event.duration_ms,
            )
        )


async def _attempt_events(
    turn: Turn, attempt: _Attempt, *, params: GenerationParams
) -> AsyncIterator[TurnEvent]:
    """One provider's answer, within the client's limits; ends with ``Finished``."""
    limits = OutputLimits(stop=params.stop, max_tokens=params.max_tokens)
    events = run_agent(turn, attempt.provider.llm(params))
    try:
        async for event in events:
            if isinstance(event, TextDelta):
                text, limit_reached = limits.feed(event.text) if limits.active else (event.text, None)
                if text:
                    yield TextDelta(text)
                if limit_reached:
                    yield Finished(limit_reached)
                    return
            elif isinstance(event, Finished):
                held = limits.flush()
                if held:
                    yield TextDelta(held)
                yield event
            elif isinstance(event, UsageReported):
                attempt.reported.append(event)
            else:
                yield event
    finally:
        await events.aclose()


def _failure(
    provider: LLMProvider, raised: Exception, *, record: ConversationRecord
) -> tuple[errors.FintalkError, bool]:
    """The Fintalk error for a provider's failure, noted in the log record and for health,
    and whether the model misbehaved (rather than its upstream failing): the agent's step
    limit, output that could not be parsed or used. A misbehaving model ends in the spoken
    apology, never an HTTP 500."""
    error = provider.upstream_error(raised)
    detail = ""
    misbehaved = False
    if error is None and isinstance(raised, errors.FintalkError):
        error = raised
    elif error is None:
        logger.error(
            "The model's answer could not be used (%s, provider %s): the caller hears the apology",
            type(raised).__name__,
            provider.name,
            exc_info=raised,
        )
        error = errors.FintalkError("The assistant failed while answering; please try again.")
        detail = f"{type(raised).__name__}: {raised}"
        misbehaved = True
    else:
        logger.warning("LLM provider %s (%s) failed: %s", provider.name, provider.model, error.message)
    record.provider_failures.append(
        {
            "provider": provider.name,
            "model": provider.model,
            "status": error.status,
            "error": detail or error.message,
        }
    )
    provider_failure_note(provider=provider, message=error.message)
    return error, misbehaved


def _usage(answering: _Attempt | None, record: ConversationRecord) -> Usage:
    if answering is not None and answering.provider.reports_usage and answering.reported:
        return Usage(
            prompt_tokens=sum(step.prompt_tokens for step in answering.reported),
            completion_tokens=sum(step.completion_tokens for step in answering.reported),
            estimated=False,
        )
    return Usage(
        prompt_tokens=count_prompt_tokens(content for _, content in record.messages),
        completion_tokens=count_tokens(record.answer),
        estimated=True,
    )


async def _write_log(record: ConversationRecord) -> None:
    try:
        # Shielded so that a second cancellation cannot lose the log half-way.
        await asyncio.shield(sync_to_async(conversation_log_write)(record=record))
    except asyncio.CancelledError:
        pass
    except Exception:
        logger.exception("Could not write the conversation log for %s", record.completion_id)
