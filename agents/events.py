"""What happens while a turn is answered, independent of how it is framed on the wire.

The runner and ``agents.answering`` yield these; the OpenAI SSE framing, the
non-streaming reply, the session endpoints and the conversation log
(``conversations.recording``) all consume the same sequence. An event carries everything
its consumers need, so none of them reaches back into the agent.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ReadBack(TextDelta):
    """Fintalk's own words reading a pending action back to the caller (never the model's):
    text like any other for every framing, and the answer that carries it whole, and
    finishes, is what lets the caller confirm action ``action_id`` (``agents.readbacks``)."""

    action_id: int = 0


@dataclass(frozen=True, slots=True)
class ToolStarted:
    id: str
    name: str
    arguments: dict


@dataclass(frozen=True, slots=True)
class ToolFinished:
    id: str
    name: str
    arguments: dict
    result: str
    is_error: bool
    duration_ms: float


@dataclass(frozen=True, slots=True)
class ClientToolCall:
    """A call to a tool the client declared; the client runs it."""

    id: str
    name: str
    arguments: dict


@dataclass(frozen=True, slots=True)
class UsageReported:
    """Token counts the model reported for one of its steps (not every provider does)."""

    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True, slots=True)
class ProviderAnswering:
    """A provider's first words (or client tool call) of this turn are about to be sent.

    After this, a failure ends the answer with an error: no fallback is spliced on.
    """

    provider: str  # the provider's name ("offline", "openai", "bedrock", "websocket")
    model: str


@dataclass(frozen=True, slots=True)
class ProviderFailed:
    """A provider failed; the next of ``LLM_FALLBACKS`` answers if it had said nothing.

    ``status`` is the HTTP status the failure maps to (502, 503, 504...); ``error`` the
    message, or the exception's type and text when it was not an upstream error.
    """

    provider: str
    model: str
    status: int
    error: str


@dataclass(frozen=True, slots=True)
class Finished:
    reason: str  # "stop", "length" or "tool_calls"


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens an answer cost; ``estimated`` when counted by Fintalk, not the provider."""

    prompt_tokens: int
    completion_tokens: int
    estimated: bool

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


# ``Answered.answered_by`` when no provider could answer and the apology was sent.
ANSWERED_BY_APOLOGY = "apology"


@dataclass(frozen=True, slots=True)
class Answered(Finished):
    """The final event of ``agents.answering.answer_turn``: why the answer ended, what it
    cost, and who answered (a provider's name, or ``ANSWERED_BY_APOLOGY``).

    ``apologised``: the caller heard the apology — no provider could answer, or the model
    failed after it began — so the turn failed though the reply ended normally. ``note``
    says what went wrong on the way, also when another provider then answered.
    """

    usage: Usage | None = None
    answered_by: str = ""
    answered_model: str = ""
    apologised: bool = False
    note: str = ""


TurnEvent = (
    TextDelta
    | ToolStarted
    | ToolFinished
    | ClientToolCall
    | UsageReported
    | ProviderAnswering
    | ProviderFailed
    | Finished
)
