"""From a validated chat request to the agent's turn (framed by ``api.reply``).

The whole pipeline for any transport (HTTP here, the MQTT bridge elsewhere)::

    request = chat_request_parse(body)                       # 400 on bad input
    completion = start_completion(request, stream=..., api_key=..., provider=..., started=...)
    pump, first = await reply_start(completion)               # api.reply
    async for frame in reply_frames(completion, pump, first, framing): ...
"""

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from agents.caller import call_info, caller_from_claims
from agents.client_tools import ClientTool
from agents.events import TurnEvent
from agents.answering import answer_turn
from agents.providers import LLMProvider, provider_fallbacks
from agents.runner import Turn
from agents.tools import BANK_TOOL_NAMES
from api.messages import to_chat_message, transcript_entry
from api.models import ApiKey
from api.request import ChatRequest
from api.serializers import ChatCompletionRequestSerializer
from conversations.recording import TurnFacts, TurnRecorder
from conversations.writer import turn_log_submit
from fintalk import errors
from fintalk.ids import new_id
from fintalk.tracing import trace_context_current, trace_id_current


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


def chat_request_parse(data: object, *, conversation_header: str = "") -> ChatRequest:
    """A chat completion request's parsed JSON body as a ``ChatRequest``.

    Raises ``rest_framework.exceptions.ValidationError`` (a 400 through ``api.errors``).
    """
    if not isinstance(data, dict):
        raise errors.InvalidRequest("The request body must be a JSON object.")
    serializer = ChatCompletionRequestSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.chat_request(conversation_header=conversation_header)


@dataclass
class Completion:
    """A request ready to answer: its identity on the wire, and its events (lazy)."""

    id: str
    created: int
    model: str
    stream: bool
    include_usage: bool
    api_key: ApiKey
    provider: str
    started: float
    events: AsyncIterator[TurnEvent]
    recorder: TurnRecorder  # the turn's log, fed by the reply (``api.reply``)


def start_completion(
    request: ChatRequest,
    *,
    stream: bool,
    api_key: ApiKey,
    provider: LLMProvider,
    started: float,
    channel: str = "",
) -> Completion:
    """Build the turn and its recorder, and start answering (lazily).

    ``stream`` is how the reply will be framed (recorded in the log); ``started`` is the
    ``time.perf_counter()`` at which the request arrived; ``channel`` is the log's channel
    when the endpoint or transport decides it (``web``, ``session``, ``mqtt``), else
    ``vapi`` or ``api`` from the request.
    """
    model = resolve_model(request.model, provider)
    clashes = BANK_TOOL_NAMES & {tool.name for tool in request.tools}
    if clashes:
        raise errors.InvalidRequest(
            f"Tool name(s) {', '.join(sorted(clashes))} are reserved by the bank's own tools.",
            param="tools",
        )
    fallbacks = None
    if request.params.response_format is not None:
        if not getattr(provider, "supports_response_format", False):
            raise errors.InvalidRequest(
                f"response_format {request.params.response_format['type']!r} cannot be honoured by the "
                f"configured model ({provider.name}): send it without response_format, or use an "
                "OpenAI-compatible upstream (LLM_PROVIDER=openai).",
                param="response_format",
                code="unsupported_response_format",
            )
        # Only fallbacks that can honour it may answer instead.
        fallbacks = tuple(p for p in provider_fallbacks() if getattr(p, "supports_response_format", False))
    client_tools = [
        ClientTool(name=tool.name, description=tool.description, parameters=tool.parameters)
        for tool in request.tools
    ]
    caller = caller_from_claims(
        request.claims,
        trusted=api_key.trusted_channel,
        user_texts=request.user_texts,
        api_key_id=api_key.pk,
    )
    info = call_info(request.claims)
    completion_id = new_id("chatcmpl-")
    conversation_key = caller.conversation.key if caller.conversation is not None else ""
    facts = TurnFacts(
        completion_id=completion_id,
        channel=channel or info.channel,
        provider=provider.name,
        model=model,
        streamed=stream,
        started_at=timezone.now(),
        started=started,
        messages=tuple(transcript_entry(m) for m in request.messages),
        api_key_id=api_key.pk,
        conversation_key=conversation_key,
        external_id=conversation_key.partition(":")[2],
        caller_phone=caller.phone or "",
        caller_asserted=caller.asserted,
        trace_id=trace_id_current(),
        trace_context=trace_context_current(),
    )
    turn = Turn(
        messages=[to_chat_message(m) for m in request.messages],
        caller=caller,
        client_tools=client_tools,
        tool_choice=request.tool_choice,
        parallel_tool_calls=request.parallel_tool_calls,
    )
    return Completion(
        id=completion_id,
        created=int(time.time()),
        model=model,
        stream=stream,
        include_usage=request.include_usage,
        api_key=api_key,
        provider=provider.name,
        started=started,
        events=answer_turn(turn, provider=provider, params=request.params, fallbacks=fallbacks),
        recorder=TurnRecorder(facts, customer_id=lambda: caller.customer_id, submit=turn_log_submit),
    )
