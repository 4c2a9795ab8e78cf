"""A turn's log record, folded from the turn's events as the reply consumes them.

The reply loop (``api.reply``) hands every event it takes to ``TurnRecorder.feed``, says
what reached the client with ``sent`` / ``sent_everything``, and calls ``finish`` once the
reply is over, whatever happened; ``finish`` queues the record for the background writer
(``conversations.writer``) and never touches the database on the request's path.

What was *sent* is what the reply handed to the connection before the client went away;
what was *generated* can be more (the model runs ahead of a slow or vanished client). The
transcript keeps what was sent; the token counts keep what was generated, since that is
what the turn cost.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from agents.events import (
    ANSWERED_BY_APOLOGY,
    Answered,
    ClientToolCall,
    ProviderAnswering,
    ProviderFailed,
    TextDelta,
    ToolFinished,
    TurnEvent,
    UsageReported,
)
from agents.tokens import count_prompt_tokens, count_tokens
from conversations.models import Status

CLIENT_RUNS_IT = "(run by the client)"
APOLOGY_NOTE = "Every provider failed before answering; the caller heard the apology."
CANCELLED_NOTE = "The client went away before the answer was complete."


@dataclass(frozen=True, slots=True)
class TurnFacts:
    """What the request said, known before answering.

    ``conversation_key`` names the conversation within the API key (``agents.caller``'s
    ``call:…``/``id:…``/``user:…``/``phone:…``; empty: a conversation of this turn
    alone); ``external_id`` is the id as the client sent it. ``messages`` are the
    request's (role, text) pairs. ``started`` is the ``time.perf_counter()`` at which the
    request arrived, ``started_at`` the same moment as wall-clock time.
    """

    completion_id: str
    channel: str
    provider: str
    model: str
    streamed: bool
    started_at: datetime
    started: float
    messages: tuple[tuple[str, str], ...]
    api_key_id: int | None = None
    conversation_key: str = ""
    external_id: str = ""
    caller_phone: str = ""
    caller_asserted: bool = False
    trace_id: str = ""  # the request's OpenTelemetry trace, when tracing is on
    trace_context: object | None = None  # where the log's own writes join that trace


@dataclass
class ToolCallRecord:
    name: str
    arguments: dict
    result: str = ""
    error: str = ""
    duration_ms: float | None = None


@dataclass
class TurnRecord:
    """Everything known about one turn once its reply is over: what gets stored."""

    facts: TurnFacts
    status: str = Status.COMPLETED
    finish_reason: str = ""
    error: str = ""
    answer: str = ""  # what the client was sent
    generated_chars: int = 0
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    time_to_first_token_ms: float | None = None
    duration_ms: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    usage_estimated: bool = True
    answered_by: str = ""
    answered_model: str = ""
    provider_failures: list[dict] = field(default_factory=list)
    customer_id: int | None = None


class TurnRecorder:
    """Folds one turn's events into its ``TurnRecord``.

    ``submit`` receives the finished record (by default the background writer's queue);
    ``customer_id`` is asked for at the end, since a turn can verify its caller.
    """

    def __init__(
        self,
        facts: TurnFacts,
        *,
        customer_id: Callable[[], int | None] = lambda: None,
        submit: Callable[[TurnRecord], None] | None = None,
    ) -> None:
        self.record = TurnRecord(facts=facts)
        self._customer_id = customer_id
        self._submit = submit
        self._generated: list[str] = []
        self._sent: list[str] = []
        self._reported: list[UsageReported] = []
        self._unreported_from = 0  # generated text after the last usage report starts here
        self._answered: Answered | None = None
        self._finished = False

    def feed(self, event: TurnEvent) -> None:
        """Fold in an event the reply took from the answer (before it is framed)."""
        if self._finished:
            return
        record = self.record
        if isinstance(event, TextDelta):
            if record.time_to_first_token_ms is None:
                record.time_to_first_token_ms = (time.perf_counter() - record.facts.started) * 1000
            self._generated.append(event.text)
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
        elif isinstance(event, ClientToolCall):
            record.tool_calls.append(
                ToolCallRecord(name=event.name, arguments=event.arguments, result=CLIENT_RUNS_IT)
            )
        elif isinstance(event, ProviderAnswering):
            record.answered_by, record.answered_model = event.provider, event.model
        elif isinstance(event, ProviderFailed):
            record.provider_failures.append(
                {"provider": event.provider, "model": event.model, "status": event.status, "error": event.error}
            )
        elif isinstance(event, UsageReported):
            self._reported.append(event)
            self._unreported_from = len(self._generated)
        elif isinstance(event, Answered):
            self._answered = event

    def sent(self, text: str) -> None:
        """``text`` of a ``TextDelta`` reached the client (its frame was handed on)."""
        if not self._finished:
            self._sent.append(text)

    def sent_everything(self) -> None:
        """The whole answer reached the client (a JSON reply was returned)."""
        self._sent = list(self._generated)

    def finish(self, *, error: BaseException | None = None, cancelled: bool = False) -> TurnRecord:
        """Close the record: completed, failed with ``error``, or ``cancelled`` (the client
        went away). Idempotent; submits the record once and returns it."""
        record = self.record
        if self._finished:
            return record
        self._finished = True
        record.duration_ms = (time.perf_counter() - record.facts.started) * 1000
        record.answer = "".join(self._sent)
        generated = "".join(self._generated)
        record.generated_chars = len(generated)
        record.customer_id = self._customer_id()
        answered = self._answered
        if cancelled:
            record.status, record.error = Status.CANCELLED, CANCELLED_NOTE
        elif error is not None:
            record.status, record.error = Status.ERROR, _error_text(error)
        elif answered is not None and (answered.apologised or answered.answered_by == ANSWERED_BY_APOLOGY):
            record.status, record.error = Status.ERROR, answered.note or APOLOGY_NOTE
        else:
            record.status = Status.COMPLETED
            record.error = answered.note if answered is not None else ""
        if answered is not None:
            record.finish_reason = answered.reason
            record.answered_by, record.answered_model = answered.answered_by, answered.answered_model
        if answered is not None and answered.usage is not None:
            usage = answered.usage
            record.prompt_tokens, record.completion_tokens = usage.prompt_tokens, usage.completion_tokens
            record.usage_estimated = usage.estimated
        else:
            self._spent(generated)
        if self._submit is not None:
            self._submit(record)
        return record

    def _spent(self, generated: str) -> None:
        """Tokens a turn that did not finish cost: what the steps reported, plus an estimate
        for the text generated since the last report (and for the prompt, if none came)."""
        record = self.record
        unreported = "".join(self._generated[self._unreported_from :])
        if self._reported:
            record.prompt_tokens = sum(step.prompt_tokens for step in self._reported)
            record.completion_tokens = sum(step.completion_tokens for step in self._reported) + count_tokens(
                unreported
            )
            record.usage_estimated = bool(unreported)
        else:
            record.prompt_tokens = count_prompt_tokens(text for _, text in record.facts.messages)
            record.completion_tokens = count_tokens(generated)
            record.usage_estimated = True


def _error_text(error: BaseException) -> str:
    """The error as staff should read it: the message, and the cause when it was hidden."""
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    cause = error.__cause__
    if cause is not None and not hasattr(cause, "message"):
        return f"{message} ({type(cause).__name__}: {cause})"
    return message
