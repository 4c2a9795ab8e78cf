"""The web front end's endpoints, on the same pipeline as chat completions.

- ``POST /api/agent/query/``: one question, one JSON answer.
- ``POST /api/llm/chat/stream``: a whole conversation in, SSE out.
- ``POST /api/llm/chat/session/stream``: one message in, SSE out; the server keeps the
  history by ``session_id`` (per API key) in the cache.

Their SSE events are ``{"content": ...}`` chunks and ``{"tool": ...}`` activity (a bank
tool started or finished), then ``{"done": true}``, or ``{"error": ...}``. The chat page at
``/`` calls the session stream with a staff login instead of an API key (``api/chat_page.py``).
"""

import time

from django.conf import settings
from django.core.cache import cache
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers

from agents.providers import provider_configured
from api.base import AsyncAPIView
from api.chat_page import chat_page_authenticate, chat_page_identity_check, is_chat_page_request
from api.completions import start_completion
from api.degraded import DEPENDENCY_ERRORS, dependency_failure_note
from api.framing import AgentQueryJson
from api.models import ApiKey
from api.openapi import SSE_EVENT_SCHEMA, errors as error_responses
from api.reply import reply_response
from api.request import CONVERSATION_HEADER, ChatRequest, Message
from api.serializers import (
    AgentQueryRequestSerializer,
    ChatStreamRequestSerializer,
    SessionChatRequestSerializer,
)
from api.sse import ContentEventWriter
from conversations.models import Channel
from fintalk.masking import mask_card_numbers

SSE_RESPONSES = {
    (200, "text/event-stream"): OpenApiResponse(
        SSE_EVENT_SCHEMA,
        description='`{"content": ...}` events, then `{"done": true}`; `{"error": ...}` on failure.',
    ),
    **error_responses(400, 401, 405, 413, 429, 502, 503, 504),
}


def _history_key(api_key: ApiKey, session_id: str) -> str:
    return f"fintalk:session:{api_key.prefix}:{session_id}"


_NO_HISTORY = "session histories are not kept until it is back"


async def _history_get(key: str) -> list[dict]:
    """The session's history (written only by this view, from validated requests and
    answers); empty when the cache cannot be reached."""
    try:
        return await cache.aget(key) or []
    except DEPENDENCY_ERRORS as error:
        dependency_failure_note(dependency="Redis", operation="reading a session", consequence=_NO_HISTORY, error=error)
        return []


class _FrontEndView(AsyncAPIView):
    def validated(self, request, serializer_class):
        """The request's serializer, validated (``self.started`` marks its arrival)."""
        self.started = time.perf_counter()
        serializer = serializer_class(data=self.request_data(request))
        serializer.is_valid(raise_exception=True)
        return serializer

    def completion(self, chat: ChatRequest, *, channel: str = Channel.WEB):
        return start_completion(
            chat,
            stream=bool(chat.stream),
            api_key=self.api_key,
            provider=provider_configured(),
            started=self.started,
            channel=channel,
        )


class ChatStreamView(_FrontEndView):
    @extend_schema(request=ChatStreamRequestSerializer, responses=SSE_RESPONSES)
    async def post(self, request):
        serializer = self.validated(request, ChatStreamRequestSerializer)
        chat = serializer.chat_request(conversation_header=request.headers.get(CONVERSATION_HEADER, ""))
        return await reply_response(self.completion(chat), ContentEventWriter())


class SessionChatStreamView(_FrontEndView):
    via_chat_page = False

    async def authenticate(self, request) -> ApiKey:
        # The chat page at / sends a staff login cookie + CSRF token instead of an API key.
        if is_chat_page_request(request):
            self.via_chat_page = True
            return await chat_page_authenticate(request._request)
        return await super().authenticate(request)

    @extend_schema(request=SessionChatRequestSerializer, responses=SSE_RESPONSES)
    async def post(self, request):
        serializer = self.validated(request, SessionChatRequestSerializer)
        if self.via_chat_page:
            chat_page_identity_check(serializer.validated_data.get("phone_number"))
        key = _history_key(self.api_key, serializer.validated_data["session_id"])
        history = await _history_get(key)
        chat = serializer.chat_request(history=[Message(m["role"], m["content"]) for m in history])

        async def remember(answer: str) -> None:
            # Kept in the cache for the session's lifetime: no whole card number in it.
            question = {"role": "user", "content": mask_card_numbers(chat.messages[-1].content)}
            turns = [*history, question, {"role": "assistant", "content": answer}]
            try:
                await cache.aset(
                    key,
                    turns[-settings.SESSION_HISTORY_MAX_MESSAGES :],
                    timeout=settings.SESSION_HISTORY_TTL_SECONDS,
                )
            except DEPENDENCY_ERRORS as error:
                dependency_failure_note(
                    dependency="Redis", operation="saving a session", consequence=_NO_HISTORY, error=error
                )

        # The chat page at / is the web front end; other callers of this endpoint, a session stream.
        channel = Channel.WEB if self.via_chat_page else Channel.SESSION
        return await reply_response(
            self.completion(chat, channel=channel), ContentEventWriter(), on_answered=remember
        )


class AgentQueryView(_FrontEndView):
    @extend_schema(
        request=AgentQueryRequestSerializer,
        responses={
            200: inline_serializer(
                "AgentQueryResponse",
                {
                    "id": serializers.CharField(),
                    "response": serializers.CharField(allow_null=True),
                    "finish_reason": serializers.CharField(),
                    "usage": serializers.DictField(child=serializers.IntegerField()),
                },
            ),
            **error_responses(400, 401, 405, 413, 429, 502, 503, 504),
        },
    )
    async def post(self, request):
        completion = self.completion(self.validated(request, AgentQueryRequestSerializer).chat_request())
        framing = AgentQueryJson(completion_id=completion.id, created=completion.created, model=completion.model)
        return await reply_response(completion, framing)
