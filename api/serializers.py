"""Validation of OpenAI Chat Completions requests.

Unknown fields are ignored, never rejected: Vapi adds ``call``, ``customer``,
``phoneNumber``, ``metadata`` and more.
"""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

_TEXT_PART = {
    "type": "object",
    "properties": {"type": {"type": "string", "enum": ["text"]}, "text": {"type": "string"}},
    "required": ["text"],
}

ROLES = ("system", "developer", "user", "assistant", "tool")


@extend_schema_field(
    {"oneOf": [{"type": "string"}, {"type": "array", "items": _TEXT_PART}], "nullable": True}
)
class ContentField(serializers.Field):
    """A message's content: a string, a list of text parts, or null."""

    default_error_messages = {
        "invalid": "must be a string or a list of text parts.",
        "part": "content part {index} must be an object like {{\"type\": \"text\", \"text\": \"...\"}}.",
        "part_type": "content part {index} has type {type!r}; only text parts are supported.",
        "too_long": "is {length} characters long; the limit is {limit} (FINTALK_MAX_MESSAGE_CHARS).",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        text = self._text(data)
        if len(text) > settings.MAX_MESSAGE_CHARS:
            self.fail("too_long", length=len(text), limit=settings.MAX_MESSAGE_CHARS)
        return text

    def _text(self, data) -> str:
        if isinstance(data, str):
            return data
        if not isinstance(data, list):
            self.fail("invalid")
        texts = []
        for index, part in enumerate(data):
            if not isinstance(part, dict) or not isinstance(part.get("text", None), str):
                if isinstance(part, dict) and part.get("type") not in (None, "text"):
                    self.fail("part_type", index=index, type=part.get("type"))
                self.fail("part", index=index)
            if part.get("type", "text") != "text":
                self.fail("part_type", index=index, type=part.get("type"))
            texts.append(part["text"])
        return "".join(texts)

    def to_representation(self, value):
        return value


class ToolCallFunctionSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64)
    arguments = serializers.CharField(allow_blank=True, trim_whitespace=False)


class AssistantToolCallSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=128)
    type = serializers.ChoiceField(choices=["function"], default="function")
    function = ToolCallFunctionSerializer()


class MessageSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=ROLES)
    content = ContentField()
    name = serializers.CharField(required=False, max_length=64)
    tool_calls = AssistantToolCallSerializer(many=True, required=False)
    tool_call_id = serializers.CharField(required=False, max_length=128)

    def validate(self, attrs):
        role = attrs["role"]
        if role == "assistant":
            if attrs.get("content") is None and not attrs.get("tool_calls"):
                raise serializers.ValidationError(
                    {"content": "An assistant message needs content or tool_calls."}
                )
        elif attrs.get("content") is None:
            raise serializers.ValidationError({"content": f"A {role} message needs content."})
        if role == "tool" and not attrs.get("tool_call_id"):
            raise serializers.ValidationError({"tool_call_id": "A tool message needs tool_call_id."})
        return attrs


class FunctionSpecSerializer(serializers.Serializer):
    name = serializers.RegexField(r"^[A-Za-z0-9_-]{1,64}$", max_length=64)
    description = serializers.CharField(required=False, allow_blank=True)
    parameters = serializers.DictField(required=False)


class ToolSpecSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["function"])
    function = FunctionSpecSerializer()


class StreamOptionsSerializer(serializers.Serializer):
    include_usage = serializers.BooleanField(required=False, default=False)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string"},
            {"type": "array", "items": {"type": "string"}, "maxItems": 4},
        ],
        "nullable": True,
    }
)
class StopField(serializers.Field):
    default_error_messages = {"invalid": "must be a string or a list of up to 4 strings."}

    def to_internal_value(self, data):
        if isinstance(data, str):
            return (data,)
        if isinstance(data, list) and len(data) <= 4 and all(isinstance(s, str) for s in data):
            return tuple(data)
        self.fail("invalid")

    def to_representation(self, value):
        return list(value)


class ChatCompletionRequestSerializer(serializers.Serializer):
    model = serializers.CharField(required=False, allow_blank=True, max_length=256)
    messages = MessageSerializer(many=True, allow_empty=False, max_length=settings.MAX_MESSAGES)
    stream = serializers.BooleanField(required=False, default=True)
    stream_options = StreamOptionsSerializer(required=False, allow_null=True)
    temperature = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=2)
    top_p = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=1)
    max_tokens = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    max_completion_tokens = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    stop = StopField(required=False, allow_null=True)
    n = serializers.IntegerField(required=False, allow_null=True)
    user = serializers.CharField(required=False, allow_blank=True, max_length=256)
    tools = ToolSpecSerializer(many=True, required=False, max_length=settings.MAX_TOOLS)
    tool_choice = serializers.JSONField(required=False, allow_null=True)
    # Identity and call context (asserted only by trusted-channel keys: api/identity.py).
    phone_number = serializers.CharField(required=False, allow_blank=True, max_length=32)
    customer = serializers.DictField(required=False, allow_null=True)
    call = serializers.DictField(required=False, allow_null=True)

    def validate_n(self, value):
        if value not in (None, 1):
            raise serializers.ValidationError("Only n=1 is supported.")
        return value

    def validate_tool_choice(self, value):
        if value in (None, "none", "auto", "required"):
            return value
        name = value.get("function", {}).get("name") if isinstance(value, dict) else None
        if isinstance(value, dict) and value.get("type") == "function" and isinstance(name, str):
            return name
        raise serializers.ValidationError(
            'Use "none", "auto", "required" or {"type": "function", "function": {"name": ...}}.'
        )

    def validate(self, attrs):
        if not any(message["role"] in ("user", "tool") for message in attrs["messages"]):
            raise serializers.ValidationError(
                {"messages": "Include at least one user message: there is nothing to answer."}
            )
        names = [tool["function"]["name"] for tool in attrs.get("tools", [])]
        if len(names) != len(set(names)):
            raise serializers.ValidationError({"tools": "Tool names must be unique."})
        choice = attrs.get("tool_choice")
        if choice not in (None, "none", "auto", "required") and choice not in names:
            raise serializers.ValidationError(
                {"tool_choice": f"No tool named {choice!r} in tools."}
            )
        if choice == "required" and not names:
            attrs["tool_choice"] = None
        if attrs.get("max_completion_tokens") and not attrs.get("max_tokens"):
            attrs["max_tokens"] = attrs["max_completion_tokens"]
        return attrs


class _SamplingFields(serializers.Serializer):
    temperature = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=2)
    top_p = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=1)
    max_tokens = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    phone_number = serializers.CharField(required=False, allow_blank=True, max_length=32)


class ChatStreamRequestSerializer(_SamplingFields):
    """``POST /api/llm/chat/stream``: a whole conversation, stateless."""

    messages = MessageSerializer(many=True, allow_empty=False, max_length=settings.MAX_MESSAGES)


class SessionChatRequestSerializer(_SamplingFields):
    """``POST /api/llm/chat/session/stream``: one message; the server keeps the history."""

    session_id = serializers.RegexField(r"^[A-Za-z0-9._:-]{1,128}$")
    message = serializers.CharField(max_length=settings.MAX_MESSAGE_CHARS, trim_whitespace=False)
    system_prompt = serializers.CharField(
        required=False, allow_blank=True, max_length=settings.MAX_MESSAGE_CHARS
    )


class AgentQueryRequestSerializer(serializers.Serializer):
    """``POST /api/agent/query/``: one question, one JSON answer."""

    query = serializers.CharField(max_length=settings.MAX_MESSAGE_CHARS)
    phone_number = serializers.CharField(required=False, allow_blank=True, max_length=32)
    conversation_id = serializers.RegexField(r"^[A-Za-z0-9._:-]{1,128}$", required=False)
