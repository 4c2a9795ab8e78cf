"""Answering one request: the agent's events, limited, timed and logged.

Every endpoint consumes ``answer_turn``. It applies ``stop``/``max_tokens``, measures time
to first token, and writes the conversation log once, after the answer, whatever happened
(completed, failed, or the client went away), never once per token.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from asgiref.sync import sync_to_async

from agents.events import ClientToolCall, Finished, TextDelta, ToolFinished, TurnEvent
from agents.limits import OutputLimits
from agents.providers import GenerationParams, LLMProvider
from agents.runner import Turn, run_agent
from agents.tokens import count_prompt_tokens, count_tokens
from conversations.models import Conversation
from conversations.services import ConversationRecord, ToolCallRecord, conversation_log_write
from fintalk import errors

logger = logging.getLogger(__name__)


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


async def answer_turn(
    turn: Turn,
    *,
    provider: LLMProvider,
    params: GenerationParams,
    record: ConversationRecord,
    started: float,
) -> AsyncIterator[TurnEvent]:
    """Yield the turn's events, ending with ``Answered``; log the conversation at the end.

    ``started`` is the ``time.perf_counter()`` at which the request arrived.
    """
    limits = OutputLimits(stop=params.stop, max_tokens=params.max_tokens)
    answer: list[str] = []
    events = run_agent(turn, provider.llm(params))
    record.status = Conversation.Status.ERROR
    try:
        finish = "stop"
        async for event in events:
            if isinstance(event, TextDelta):
                text, limit_reached = limits.feed(event.text) if limits.active else (event.text, None)
                if text:
                    if record.time_to_first_token_ms is None:
                        record.time_to_first_token_ms = (time.perf_counter() - started) * 1000
                    answer.append(text)
                    yield TextDelta(text)
                if limit_reached:
                    finish = limit_reached
                    break
            elif isinstance(event, Finished):
                finish = event.reason
                held = limits.flush()
                if held:
                    answer.append(held)
                    yield TextDelta(held)
            else:
                if isinstance(event, ToolFinished):
                    record.tool_calls.append(
                        ToolCallRecord(
                            name=event.name,
                            arguments=event.arguments,
                            result="" if event.is_error else event.result,
                            error=event.result if event.is_error else "",
                            duration_ms=event.duration_ms,
                        )
                    )
                elif isinstance(event, ClientToolCall):
                    record.tool_calls.append(
                        ToolCallRecord(name=event.name, arguments=event.arguments, result="(run by the client)")
                    )
                yield event
        record.answer = "".join(answer)
        usage = Usage(
            prompt_tokens=count_prompt_tokens(content for _, content in record.messages),
            completion_tokens=count_tokens(record.answer),
            estimated=True,
        )
        record.prompt_tokens, record.completion_tokens = usage.prompt_tokens, usage.completion_tokens
        record.finish_reason = finish
        record.status = Conversation.Status.COMPLETED
        yield Answered(finish, usage)
    except (asyncio.CancelledError, GeneratorExit):
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
        await events.aclose()
        record.answer = record.answer or "".join(answer)
        record.duration_ms = (time.perf_counter() - started) * 1000
        record.customer_id = turn.caller.customer_id
        await _write_log(record)


async def _write_log(record: ConversationRecord) -> None:
    try:
        # Shielded so that a second cancellation cannot lose the log half-way.
        await asyncio.shield(sync_to_async(conversation_log_write)(record=record))
    except asyncio.CancelledError:
        pass
    except Exception:
        logger.exception("Could not write the conversation log for %s", record.completion_id)
