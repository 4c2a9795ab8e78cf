"""Answering one request: the agent's events, limited, with fallback.

Every endpoint consumes ``answer_turn``. It applies ``stop``/``max_tokens`` and ends with
``Answered`` (why, what it cost, who answered). It keeps no record of its own: the
conversation log is one more consumer of the same events (``conversations.recording``).

When the provider fails before the client has been told anything, the next provider of
``LLM_FALLBACKS`` answers the same turn; when every one has failed, a short apology that a
voice can speak does. Once words have been sent, a failure ends the answer with an error:
a second provider's answer is never spliced onto the first one's beginning.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from agents.events import (
    ANSWERED_BY_APOLOGY,
    Answered,
    ClientToolCall,
    Finished,
    ProviderAnswering,
    ProviderFailed,
    TextDelta,
    TurnEvent,
    Usage,
    UsageReported,
)
from agents.limits import OutputLimits
from agents.providers import GenerationParams, LLMProvider, provider_fallbacks
from agents.providers.health import provider_failure_note
from agents.response_format import answer_format_problem
from agents.readbacks import readback_delivered, readback_event
from agents.runner import Turn, run_agent
from agents.tokens import count_prompt_tokens, count_tokens
from fintalk import errors
from fintalk.text import OFF_LOOP_THRESHOLD

__all__ = ["ANSWERED_BY_APOLOGY", "APOLOGY", "Answered", "Usage", "answer_turn"]

logger = logging.getLogger(__name__)

# The message a deadline cancels an answer with (``api.pump``), followed by ": " and what
# took too long: the reply then records an error, not a caller who went away.
DEADLINE_CANCEL = "fintalk-deadline"

APOLOGY = "I'm sorry, I can't answer that right now. Please try again in a moment."


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
    fallbacks: Sequence[LLMProvider] | None = None,
) -> AsyncIterator[TurnEvent]:
    """Yield the turn's events, ending with ``Answered``.

    Besides what the client is sent (a pending action's ``ReadBack`` last), the events say
    who is answering (``ProviderAnswering``), which providers failed on the way
    (``ProviderFailed``, also just before a failure is raised) and what each model step
    reported it cost (``UsageReported``). ``fallbacks`` defaults to the providers of
    ``LLM_FALLBACKS``. Raises ``FintalkError`` when the answer fails.
    """
    chain = (provider, *(provider_fallbacks() if fallbacks is None else fallbacks))
    answer: list[str] = []
    finish = "stop"
    answering: _Attempt | None = None
    apologised = False  # the caller heard the apology: the answer failed, however it ended
    note = ""  # what went wrong on the way, for the log
    try:
        for attempt in (_Attempt(candidate) for candidate in chain):
            try:
                async for event in _attempt_events(turn, attempt, params=params):
                    if isinstance(event, Finished):
                        finish = event.reason
                        continue
                    if isinstance(event, (TextDelta, ClientToolCall)) and not attempt.spoke:
                        attempt.spoke = True
                        yield ProviderAnswering(attempt.provider.name, attempt.provider.model)
                    if isinstance(event, TextDelta):
                        answer.append(event.text)
                    yield event
            except (asyncio.CancelledError, GeneratorExit):
                raise
            except Exception as raised:
                error, misbehaved, failure = _failure(attempt.provider, raised)
                yield failure
                if misbehaved and attempt.spoke:
                    # Words were sent: end them with the apology rather than a cut.
                    separator = "" if not answer or answer[-1][-1:].isspace() else " "
                    answer.append(separator + APOLOGY)
                    finish, apologised = "stop", True
                    note = "The model failed after it began to answer; the caller heard the apology."
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
                    note = (
                        f"The model's answer could not be used ({type(raised).__name__}: {raised}); "
                        "the caller heard the apology."
                    )
                continue
            answering = attempt
            break
    except (asyncio.CancelledError, GeneratorExit) as stopped:
        reason = stopped.args[0] if stopped.args and isinstance(stopped.args[0], str) else ""
        if reason.startswith(DEADLINE_CANCEL):
            logger.error("Answer stopped by a deadline: %s", reason.removeprefix(DEADLINE_CANCEL).lstrip(": "))
        raise
    except errors.FintalkError:
        raise
    except Exception as error:
        logger.exception("The agent failed")
        raise errors.FintalkError("The assistant failed while answering; please try again.") from error
    if answering is None:
        finish, apologised = "stop", True
        note = note or "Every provider failed before answering; the caller heard the apology."
        answer.append(APOLOGY)
        yield TextDelta(APOLOGY)
        by, model = ANSWERED_BY_APOLOGY, ""
    else:
        # Also when it said nothing at all (an empty reply): it answered.
        by, model = answering.provider.name, answering.provider.model
    # A pending action's read-back: Fintalk's words, last, whatever the model said; only in
    # an answer that completed (a failed one delivers nothing).
    readback = None if apologised else readback_event(turn.caller, said="".join(answer))
    if readback is not None:
        answer.append(readback.text)
        yield readback
    if params.response_format is not None and answering is not None and finish != "tool_calls":
        if problem := answer_format_problem("".join(answer), params.response_format):
            raise errors.UpstreamError(
                f"The model's answer does not follow response_format: {problem}.",
                param="response_format",
                code="invalid_model_output",
            )
    if sum(len(message.content or "") for message in turn.messages) > OFF_LOOP_THRESHOLD:
        usage = await asyncio.to_thread(_usage, answering, turn, "".join(answer))  # 1 MB: ~0.2 s
    else:
        usage = _usage(answering, turn, "".join(answer))
    yield Answered(finish, usage, answered_by=by, answered_model=model, apologised=apologised, note=note)
    if readback is not None:  # the answer finished: the caller's next turn may confirm
        await readback_delivered(turn.caller, readback)


async def _attempt_events(
    turn: Turn, attempt: _Attempt, *, params: GenerationParams
) -> AsyncIterator[TurnEvent]:
    """One provider's answer, within the client's limits; ends with ``Finished``."""
    limits = OutputLimits(stop=params.stop, max_tokens=params.max_tokens)
    limited = limits.active
    events = run_agent(turn, attempt.provider.llm(params))
    try:
        async for event in events:
            if isinstance(event, TextDelta):
                if not limited:
                    yield event
                    continue
                text, limit_reached = limits.feed(event.text)
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
            else:
                if isinstance(event, UsageReported):
                    attempt.reported.append(event)
                yield event
    finally:
        await events.aclose()


def _failure(provider: LLMProvider, raised: Exception) -> tuple[errors.FintalkError, bool, ProviderFailed]:
    """The Fintalk error for a provider's failure (noted for health), whether the model
    misbehaved (rather than its upstream failing: the agent's step limit, output that could
    not be parsed or used — it ends in the spoken apology, never an HTTP 500), and the
    failure's event."""
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
    provider_failure_note(provider=provider, message=error.message)
    failure = ProviderFailed(provider.name, provider.model, error.status, detail or error.message)
    return error, misbehaved, failure


def _usage(answering: _Attempt | None, turn: Turn, answer: str) -> Usage:
    if answering is not None and answering.provider.reports_usage and answering.reported:
        return Usage(
            prompt_tokens=sum(step.prompt_tokens for step in answering.reported),
            completion_tokens=sum(step.completion_tokens for step in answering.reported),
            estimated=False,
        )
    return Usage(
        prompt_tokens=count_prompt_tokens(message.content or "" for message in turn.messages),
        completion_tokens=count_tokens(answer),
        estimated=True,
    )
