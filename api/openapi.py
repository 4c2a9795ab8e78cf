"""Shapes of replies, for the OpenAPI schema only (the views build them directly)."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    message = serializers.CharField()
    type = serializers.CharField()
    param = serializers.CharField(allow_null=True)
    code = serializers.CharField(allow_null=True)


class ErrorEnvelopeSerializer(serializers.Serializer):
    error = ErrorSerializer()


class UsageSerializer(serializers.Serializer):
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()


class FunctionCallSerializer(serializers.Serializer):
    name = serializers.CharField()
    arguments = serializers.CharField()


class ToolCallOutSerializer(serializers.Serializer):
    id = serializers.CharField()
    type = serializers.ChoiceField(choices=["function"])
    function = FunctionCallSerializer()


class AssistantMessageSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=["assistant"])
    content = serializers.CharField(allow_null=True)
    tool_calls = ToolCallOutSerializer(many=True, required=False)


class ChoiceSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    message = AssistantMessageSerializer()
    logprobs = serializers.JSONField(allow_null=True)
    finish_reason = serializers.ChoiceField(choices=["stop", "length", "tool_calls"])


class ChatCompletionSerializer(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.ChoiceField(choices=["chat.completion"])
    created = serializers.IntegerField()
    model = serializers.CharField()
    system_fingerprint = serializers.CharField(allow_null=True)
    choices = ChoiceSerializer(many=True)
    usage = UsageSerializer()


class ModelSerializer(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.ChoiceField(choices=["model"])
    created = serializers.IntegerField()
    owned_by = serializers.CharField()


class ModelListSerializer(serializers.Serializer):
    object = serializers.ChoiceField(choices=["list"])
    data = ModelSerializer(many=True)


# One Server-Sent Event, as SSE-aware tools (schemathesis) read it.
SSE_EVENT_SCHEMA = {
    "type": "object",
    "properties": {"event": {"type": "string"}, "data": {"type": "string"}, "id": {"type": "string"}},
    "required": ["data"],
}


def errors(*statuses: int) -> dict:
    descriptions = {
        400: "Invalid request (the error's `param` names the field).",
        401: "Missing, wrong or revoked API key.",
        404: "Unknown model.",
        405: "Method not allowed.",
        413: "Request body too large.",
        429: "Rate limit or token budget reached; see `Retry-After`.",
        502: "The model provider failed.",
        503: "The model provider is unavailable.",
        504: "The model provider took too long.",
    }
    return {
        status: OpenApiResponse(ErrorEnvelopeSerializer, description=descriptions[status])
        for status in statuses
    }


def drop_trailing_slash_twins(endpoints, **kwargs):
    """drf-spectacular preprocessing hook: document ``/x``, not also its ``/x/`` twin."""
    paths = {path for path, *_ in endpoints}
    return [e for e in endpoints if not (e[0].endswith("/") and e[0].rstrip("/") in paths)]
