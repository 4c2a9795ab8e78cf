"""HTTP endpoints: validate, call one service, frame the result."""

import asyncio
import time

from django.http import JsonResponse
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema

from agents.providers import provider_configured
from api.base import AsyncAPIView
from api.completions import Completion, chat_request_parse, known_models, resolve_model, start_completion
from api.errors import not_found
from api.request import CONVERSATION_HEADER
from api.openapi import (
    SSE_EVENT_SCHEMA,
    ChatCompletionSerializer,
    ModelListSerializer,
    ModelSerializer,
    errors as error_responses,
)
from api.reply import openai_framing, reply_response
from api.serializers import ChatCompletionRequestSerializer
from fintalk.text import OFF_LOOP_THRESHOLD

# ``stream`` absent or null: OpenAI's default (JSON) on /v1/, SSE on /api/ (Vapi setups
# rely on that documented behaviour).
OPENAI_PREFIX = "/v1/"


def streams_by_default(request) -> bool:
    """The path's default for ``stream``: false under /v1/, true under /api/."""
    return not request.path_info.startswith(OPENAI_PREFIX)


class ChatCompletionsView(AsyncAPIView):
    """OpenAI Chat Completions: ``stream`` picks SSE or one JSON reply.

    Without ``stream`` (or with null) ``/v1/`` answers JSON, as OpenAI does, and ``/api/``
    streams. The ``Accept`` header is never consulted: Vapi sends ``application/json``
    and needs SSE.
    """

    @extend_schema(
        request=ChatCompletionRequestSerializer,
        responses={
            (200, "application/json"): OpenApiResponse(
                ChatCompletionSerializer,
                description='`"stream": false` (and the default on /v1/): one chat.completion.',
            ),
            (200, "text/event-stream"): OpenApiResponse(
                SSE_EVENT_SCHEMA,
                description=(
                    '`"stream": true` (and the default on /api/): `data:` events carrying '
                    "chat.completion.chunk JSON (an `error` object instead if the answer fails "
                    "mid-stream), then `data: [DONE]`; `: keep-alive` comments while the model "
                    "is silent."
                ),
            ),
            **error_responses(400, 401, 404, 405, 413, 429, 502, 503, 504),
        },
    )
    async def post(self, request):
        started = time.perf_counter()

        def prepare() -> Completion:
            chat = chat_request_parse(
                self.request_data(request), conversation_header=request.headers.get(CONVERSATION_HEADER, "")
            )
            stream = chat.streams(default=streams_by_default(request))
            return start_completion(
                chat, stream=stream, api_key=self.api_key, provider=provider_configured(), started=started
            )

        if int(request.META.get("CONTENT_LENGTH") or 0) > OFF_LOOP_THRESHOLD:
            completion = await asyncio.to_thread(prepare)  # parsing and checking 1 MB take ~0.2 s
        else:
            completion = prepare()
        return await reply_response(completion, openai_framing(completion))


def _model(name: str, provider) -> dict:
    return {"id": name, "object": "model", "created": 0, "owned_by": f"fintalk-{provider.name}"}


class _ListSchema(AutoSchema):
    """An APIView's GET is a "retrieve" to drf-spectacular; this one lists."""

    def get_operation_id(self):
        return super().get_operation_id().replace("_retrieve", "_list")


class ModelsView(AsyncAPIView):
    schema = _ListSchema()

    @extend_schema(
        responses={200: ModelListSerializer, **error_responses(401, 405, 429)},
    )
    async def get(self, request):
        provider = provider_configured()
        return JsonResponse({"object": "list", "data": [_model(name, provider) for name in known_models(provider)]})


class ModelView(AsyncAPIView):
    """``GET /v1/models/{model}``: one model as OpenAI describes it (``models.retrieve``)."""

    @extend_schema(responses={200: ModelSerializer, **error_responses(401, 404, 405, 429)})
    async def get(self, request, model: str):
        provider = provider_configured()
        return JsonResponse(_model(resolve_model(model, provider), provider))


@extend_schema(exclude=True)
class NotFoundView(AsyncAPIView):
    """Any other path under /api/ or /v1/: an OpenAI-shaped 404, whatever the method."""

    authentication_required = False
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    async def _not_found(self, request, *args, **kwargs):
        raise not_found(request.path)

    get = post = put = patch = delete = head = options = _not_found
