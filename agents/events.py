"""What happens while a turn is answered, independent of how it is framed on the wire.

The runner yields these; the OpenAI SSE framing, the non-streaming reply and the session
endpoints all consume the same sequence.
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
class Finished:
    reason: str  # "stop", "length" or "tool_calls"


TurnEvent = TextDelta | ToolStarted | ToolFinished | ClientToolCall | UsageReported | Finished
