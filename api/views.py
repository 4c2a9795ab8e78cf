"""HTTP endpoints: validate, call one service, frame the result."""

import time

from django.http import JsonResponse, StreamingHttpResponse

from agents.providers import provider_configured
from api.base import AsyncAPIView
from api.completions import collect, known_models, sse_stream, start_completion, start_pump
from api.serializers import ChatCompletionRequestSerializer
from fintalk import errors

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class ChatCompletionsView(AsyncAPIView):
    """OpenAI Chat Completions: ``stream`` (default true) picks SSE or one JSON reply.

    The ``Accept`` header is never consulted: Vapi sends ``application/json`` and needs SSE.
    """

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
        )
        if not completion.stream:
            return JsonResponse(await collect(completion))
        pump = start_pump(completion)
        try:
            # Wait for the first event (or the first keep-alive) before sending headers, so
            # that a fast failure still gets its real HTTP status (502, 504...).
            first = await pump.next()
        except BaseException:
            await pump.aclose()
            raise
        return StreamingHttpResponse(
            sse_stream(completion, pump, first), content_type="text/event-stream", headers=SSE_HEADERS
        )


class ModelsView(AsyncAPIView):
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


class NotFoundView(AsyncAPIView):
    """Any other path under /api/ or /v1/: an OpenAI-shaped 404, whatever the method."""

    authentication_required = False
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    async def _not_found(self, request, *args, **kwargs):
        raise errors.NotFound(f"No endpoint at {request.path}.")

    get = post = put = patch = delete = head = options = _not_found
