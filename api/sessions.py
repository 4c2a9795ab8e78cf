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
from django.http import JsonResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers

from agents.providers import provider_configured
from api.base import AsyncAPIView
from api.chat_page import chat_page_authenticate, chat_page_identity_check, is_chat_page_request
from api.completions import collect, start_completion, streaming_response
from api.identity import CONVERSATION_HEADER
from api.models import ApiKey
from api.openapi import SSE_EVENT_SCHEMA, errors as error_responses
from api.serializers import (
    AgentQueryRequestSerializer,
    ChatCompletionRequestSerializer,
    ChatStreamRequestSerializer,
    SessionChatRequestSerializer,
)
from api.sse import ContentEventWriter

_SAMPLING = ("temperature", "top_p", "max_tokens")

SSE_RESPONSES = {
    (200, "text/event-stream"): OpenApiResponse(
        SSE_EVENT_SCHEMA,
        description='`{"content": ...}` events, then `{"done": true}`; `{"error": ...}` on failure.',
    ),
    **error_responses(400, 401, 405, 413, 429, 502, 503, 504),
}


def _history_key(api_key: ApiKey, session_id: str) -> str:
    return f"fintalk:session:{api_key.prefix}:{session_id}"


def _completion_request(messages: list[dict], fields: dict, *, stream: bool) -> dict:
    """Validate an OpenAI-shaped request built from a front-end request."""
    body = {"messages": messages, "stream": stream, **{k: fields[k] for k in _SAMPLING if k in fields}}
    serializer = ChatCompletionRequestSerializer(data=body)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


async def _stream(view: AsyncAPIView, request, data: dict, raw: dict, *, conversation: str, on_answered=None):
    completion = start_completion(
        data,
        raw,
        api_key=view.api_key,
        provider=provider_configured(),
        started=view.started,
        conversation_header=conversation,
    )
    return await streaming_response(completion, framing=ContentEventWriter(), on_answered=on_answered)


class _FrontEndView(AsyncAPIView):
    def validated(self, request, serializer_class) -> tuple[dict, dict]:
        self.started = time.perf_counter()
        raw = self.request_data(request)
        serializer = serializer_class(data=raw)
        serializer.is_valid(raise_exception=True)
        identity = {"phone_number": raw["phone_number"]} if raw.get("phone_number") else {}
        return serializer.validated_data, identity


class ChatStreamView(_FrontEndView):
    @extend_schema(request=ChatStreamRequestSerializer, responses=SSE_RESPONSES)
    async def post(self, request):
        fields, identity = self.validated(request, ChatStreamRequestSerializer)
        data = _completion_request(fields["messages"], fields, stream=True)
        return await _stream(
            self, request, data, identity, conversation=request.headers.get(CONVERSATION_HEADER, "")
        )


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
        fields, identity = self.validated(request, SessionChatRequestSerializer)
        if self.via_chat_page:
            chat_page_identity_check(identity.get("phone_number"))
        key = _history_key(self.api_key, fields["session_id"])
        history: list[dict] = await cache.aget(key) or []
        system = [{"role": "system", "content": fields["system_prompt"]}] if fields.get("system_prompt") else []
        question = {"role": "user", "content": fields["message"]}
        data = _completion_request([*system, *history, question], fields, stream=True)

        async def remember(answer: str) -> None:
            turns = [*history, question, {"role": "assistant", "content": answer}]
            await cache.aset(
                key,
                turns[-settings.SESSION_HISTORY_MAX_MESSAGES :],
                timeout=settings.SESSION_HISTORY_TTL_SECONDS,
            )

        return await _stream(
            self,
            request,
            data,
            identity,
            conversation=f"session:{fields['session_id']}",
            on_answered=remember,
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
        fields, identity = self.validated(request, AgentQueryRequestSerializer)
        data = _completion_request([{"role": "user", "content": fields["query"]}], fields, stream=False)
        completion = start_completion(
            data,
            identity,
            api_key=self.api_key,
            provider=provider_configured(),
            started=self.started,
            conversation_header=fields.get("conversation_id", ""),
        )
        reply = await collect(completion)
        choice = reply["choices"][0]
        return JsonResponse(
            {
                "id": reply["id"],
                "response": choice["message"]["content"],
                "finish_reason": choice["finish_reason"],
                "usage": reply["usage"],
            }
        )
