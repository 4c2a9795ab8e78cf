"""The typed chat request: what a validated request asks for, whatever endpoint it came in by.

The serializers of ``api.serializers`` build a ``ChatRequest``; everything after them
(``api.completions``, ``agents.caller``, the MQTT bridge) reads its fields and never the
request's JSON again. Nothing in it is validated twice.
"""

from dataclasses import dataclass, field

from agents.caller import CallerClaims
from agents.providers import GenerationParams

# The header a client names its conversation by (see ``agents.caller``).
CONVERSATION_HEADER = "X-Conversation-Id"


@dataclass(frozen=True, slots=True)
class ToolCallIn:
    """A tool call made earlier in the conversation (an assistant message's ``tool_calls``)."""

    id: str
    name: str
    arguments: str  # JSON text, as the client sent it


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message; ``content`` is the text of its parts, None only when absent."""

    role: str  # system, developer, user, assistant or tool
    content: str | None
    name: str = ""
    tool_calls: tuple[ToolCallIn, ...] = ()
    tool_call_id: str = ""


@dataclass(frozen=True, slots=True)
class ClientToolSpec:
    """A function the client offers in ``tools``; ``parameters`` is its JSON Schema."""

    name: str
    description: str = ""
    parameters: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ResponseFormat:
    """OpenAI's ``response_format``: ``text``, ``json_object`` or ``json_schema``."""

    type: str
    schema: dict | None = None  # json_schema only
    name: str = ""
    strict: bool = False


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One validated chat completion request.

    ``stream`` is None when the client did not say (or sent null): each path has its own
    default (see ``streams``).
    """

    messages: tuple[Message, ...]
    model: str = ""
    stream: bool | None = None
    include_usage: bool = False
    params: GenerationParams = GenerationParams()
    tools: tuple[ClientToolSpec, ...] = ()
    tool_choice: str | None = None  # None, "none", "auto", "required" or a tool's name
    parallel_tool_calls: bool = True
    response_format: ResponseFormat | None = None
    claims: CallerClaims = CallerClaims()

    def streams(self, *, default: bool) -> bool:
        """Whether to answer with SSE: what the client asked, else the path's ``default``."""
        return default if self.stream is None else self.stream

    @property
    def user_texts(self) -> list[str]:
        return [m.content or "" for m in self.messages if m.role == "user"]
