"""HTTP endpoints: validate, call one service, frame the result."""

import time

from django.http import JsonResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema

from agents.providers import provider_configured
from api.base import AsyncAPIView
from api.completions import collect, known_models, start_completion, streaming_response
from api.identity import CONVERSATION_HEADER
from api.openapi import (
    SSE_EVENT_SCHEMA,
    ChatCompletionSerializer,
    ModelListSerializer,
    errors as error_responses,
)
from api.serializers import ChatCompletionRequestSerializer
from fintalk import errors

class ChatCompletionsView(AsyncAPIView):
    """OpenAI Chat Completions: ``stream`` (default true) picks SSE or one JSON reply.

    The ``Accept`` header is never consulted: Vapi sends ``application/json`` and needs SSE.
    """

    @extend_schema(
        request=ChatCompletionRequestSerializer,
        responses={
            (200, "application/json"): OpenApiResponse(
                ChatCompletionSerializer, description='`"stream": false`: one chat.completion.'
            ),
            (200, "text/event-stream"): OpenApiResponse(
                SSE_EVENT_SCHEMA,
                description=(
                    "The default: `data:` events carrying chat.completion.chunk JSON (an "
                    "`error` object instead if the answer fails mid-stream), then "
                    "`data: [DONE]`; `: keep-alive` comments while the model is silent."
                ),
            ),
            **error_responses(400, 401, 404, 405, 413, 429, 502, 503, 504),
        },
    )
    async def post(self, request):
        started = time.perf_counter()
        raw = self.request_data(request)
        serializer = ChatCompletionRequestSerializer(data=raw)
        serializer.is_valid(raise_exception=True)
        completion = start_completion(
            serializer.validated_data,
            raw,
            api_key=self.api_key,
            provider=provider_configured(),
            started=started,
            conversation_header=request.headers.get(CONVERSATION_HEADER, ""),
        )
        if not completion.stream:
            return JsonResponse(await collect(completion))
        return await streaming_response(completion)


class ModelsView(AsyncAPIView):
    @extend_schema(
        responses={200: ModelListSerializer, **error_responses(401, 405, 429)},
    )
    async def get(self, request):
        provider = provider_configured()
        return JsonResponse(
            {
                "object": "list",
                "data": [
                    {"id": name, "object": "model", "created": 0, "owned_by": f"fintalk-{provider.name}"}
                    for name in known_models(provider)
                ],
            }
        )


@extend_schema(exclude=True)
class NotFoundView(AsyncAPIView):
    """Any other path under /api/ or /v1/: an OpenAI-shaped 404, whatever the method."""

    authentication_required = False
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    async def _not_found(self, request, *args, **kwargs):
        raise errors.NotFound(f"No endpoint at {request.path}.")

    get = post = put = patch = delete = head = options = _not_found
