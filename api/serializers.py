"""Validation of chat requests, ending in one typed ``api.request.ChatRequest``.

Unknown fields are ignored, never rejected: Vapi adds ``call``, ``customer``,
``phoneNumber``, ``metadata`` and more. Known fields are checked for their JSON type
(no silent coercion of ``123`` into ``"123"`` or ``"yes"`` into ``true``), and text is
cleaned of what the database or an upstream cannot take (``fintalk.text``).
"""

import threading

from django.conf import settings
from django.core.validators import RegexValidator
from django.utils.functional import cached_property
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils.serializer_helpers import BindingDict

from agents.caller import CallerClaims
from agents.client_tools import client_schema_problem
from agents.providers import GenerationParams
from api.request import (
    ChatRequest,
    ClientToolSpec,
    Message,
    ResponseFormat,
    ToolCallIn,
)
from fintalk.text import text_sanitise

_TEXT_PART = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": ["text", "refusal"]},
        "text": {"type": "string"},
        "refusal": {"type": "string"},
    },
}

ROLES = ("system", "developer", "user", "assistant", "tool")
TOOL_CHOICES = ("none", "auto", "required")
RESPONSE_FORMATS = ("text", "json_object", "json_schema")
_FUNCTION_NAME = RegexValidator(r"^[A-Za-z0-9_-]{1,64}$", "must be 1 to 64 letters, digits, _ or -.")
_CONVERSATION_ID = RegexValidator(r"^[A-Za-z0-9._:-]{1,128}$", "must be 1 to 128 letters, digits, . _ : or -.")


class StrictCharField(serializers.CharField):
    """A JSON string only (DRF's CharField turns numbers into strings), cleaned."""

    default_error_messages = {"invalid": "must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(text_sanitise(data))


class StrictBooleanField(serializers.BooleanField):
    """``true`` or ``false`` only (DRF's BooleanField also takes "yes", 1, "on"...)."""

    default_error_messages = {"invalid": "must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"invalid": "must be an integer."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    default_error_messages = {"invalid": "must be a number."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictDictField(serializers.DictField):
    """A JSON object, kept as it came (its contents are checked by whoever reads them)."""

    default_error_messages = {"not_a_dict": "must be an object."}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_a_dict", input_type=type(data).__name__)
        return data


@extend_schema_field(
    {"oneOf": [{"type": "string"}, {"type": "array", "items": _TEXT_PART}], "nullable": True}
)
class ContentField(serializers.Field):
    """A message's content: a string, a list of text (or refusal) parts, or null."""

    default_error_messages = {
        "invalid": "must be a string or a list of text parts.",
        "part": "content part {index} must be an object like {{\"type\": \"text\", \"text\": \"...\"}}.",
        "part_type": "content part {index} has type {type!r}; only text and refusal parts are supported.",
        "too_long": "is {length} characters long; the limit is {limit} (FINTALK_MAX_MESSAGE_CHARS).",
    }
    # The key holding each part type's text.
    _PART_TEXT = {"text": "text", "refusal": "refusal"}

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        text = self._text(data)
        if len(text) > settings.MAX_MESSAGE_CHARS:
            self.fail("too_long", length=len(text), limit=settings.MAX_MESSAGE_CHARS)
        return text_sanitise(text)

    def _text(self, data) -> str:
        if isinstance(data, str):
            return data
        if not isinstance(data, list):
            self.fail("invalid")
        texts = []
        for index, part in enumerate(data):
            if not isinstance(part, dict):
                self.fail("part", index=index)
            kind = part.get("type", "text")
            key = self._PART_TEXT.get(kind) if isinstance(kind, str) else None
            if key is None:
                self.fail("part_type", index=index, type=kind)
            if not isinstance(part.get(key), str):
                self.fail("part", index=index)
            texts.append(part[key])
        return "".join(texts)

    def to_representation(self, value):
        return value


class ToolCallFunctionSerializer(serializers.Serializer):
    name = StrictCharField(max_length=64)
    arguments = StrictCharField(allow_blank=True, trim_whitespace=False)


class AssistantToolCallSerializer(serializers.Serializer):
    id = StrictCharField(max_length=128)
    type = serializers.ChoiceField(choices=["function"], default="function")
    function = ToolCallFunctionSerializer()


class MessageSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=ROLES)
    content = ContentField()
    name = StrictCharField(required=False, max_length=64)
    tool_calls = AssistantToolCallSerializer(many=True, required=False, allow_null=True)
    tool_call_id = StrictCharField(required=False, max_length=128)
    refusal = StrictCharField(required=False, allow_null=True, allow_blank=True)

    def validate(self, attrs):
        role = attrs["role"]
        if role == "assistant":
            if attrs.get("content") is None and attrs.get("refusal"):
                attrs["content"] = attrs["refusal"]
            if attrs.get("content") is None and not attrs.get("tool_calls"):
                raise serializers.ValidationError(
                    {"content": "An assistant message needs content or tool_calls."}
                )
        elif attrs.get("content") is None:
            raise serializers.ValidationError({"content": f"A {role} message needs content."})
        if role == "tool" and not attrs.get("tool_call_id"):
            raise serializers.ValidationError({"tool_call_id": "A tool message needs tool_call_id."})
        return attrs

    @staticmethod
    def message(attrs: dict) -> Message:
        return Message(
            role=attrs["role"],
            content=attrs.get("content"),
            name=attrs.get("name", ""),
            tool_calls=tuple(
                ToolCallIn(id=call["id"], name=call["function"]["name"], arguments=call["function"]["arguments"])
                for call in attrs.get("tool_calls") or ()
            ),
            tool_call_id=attrs.get("tool_call_id", ""),
        )


class FunctionSpecSerializer(serializers.Serializer):
    name = StrictCharField(max_length=64, validators=[_FUNCTION_NAME])
    description = StrictCharField(required=False, allow_blank=True, trim_whitespace=False)
    parameters = StrictDictField(required=False)
    strict = StrictBooleanField(required=False, allow_null=True)

    def validate_parameters(self, value):
        if problem := client_schema_problem(value):
            raise serializers.ValidationError(f"is not a valid JSON Schema: {problem}")
        return value


class ToolSpecSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["function"])
    function = FunctionSpecSerializer()


class StreamOptionsSerializer(serializers.Serializer):
    include_usage = StrictBooleanField(required=False, allow_null=True, default=False)


class JsonSchemaFormatSerializer(serializers.Serializer):
    name = StrictCharField(max_length=64)
    schema = StrictDictField(required=False)
    strict = StrictBooleanField(required=False, allow_null=True)
    description = StrictCharField(required=False, allow_blank=True)


class ResponseFormatSerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=RESPONSE_FORMATS,
        error_messages={"invalid_choice": "{input!r} is not a response format: use text, json_object or json_schema."},
    )
    json_schema = JsonSchemaFormatSerializer(required=False)

    def validate(self, attrs):
        if attrs["type"] == "json_schema" and not attrs.get("json_schema"):
            raise serializers.ValidationError({"json_schema": "A json_schema response format needs json_schema."})
        return attrs


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
            return (text_sanitise(data),)
        if isinstance(data, list) and len(data) <= 4 and all(isinstance(s, str) for s in data):
            return tuple(text_sanitise(s) for s in data)
        self.fail("invalid")

    def to_representation(self, value):
        return list(value)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "enum": list(TOOL_CHOICES)},
            {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "enum": ["function"]},
                    "function": {
                        "type": "object",
                        "properties": {"name": {"type": "string"}},
                        "required": ["name"],
                    },
                },
                "required": ["type", "function"],
            },
        ],
        "nullable": True,
    }
)
class ToolChoiceField(serializers.Field):
    """``tool_choice``: one of TOOL_CHOICES, or a named function (returned as its name)."""

    default_error_messages = {
        "invalid": 'must be "none", "auto", "required" or {{"type": "function", "function": {{"name": ...}}}}.'
    }

    def to_internal_value(self, data):
        if isinstance(data, str) and data in TOOL_CHOICES:
            return data
        if isinstance(data, dict) and data.get("type") == "function":
            function = data.get("function")
            name = function.get("name") if isinstance(function, dict) else None
            if isinstance(name, str) and name:
                return name
        self.fail("invalid")

    def to_representation(self, value):
        return value


_fields_kept = threading.local()


class _FieldsKeptPerThread(serializers.Serializer):
    """A request serializer whose fields are built once per class and thread.

    DRF gives every serializer it makes a deep copy of its declared fields, nested
    serializers included (re-running each field's ``__init__``): ~0.45 ms of a chat
    request's CPU, before its model request can leave. Validation reads the fields and never
    changes them (these serializers use no ``context``, ``instance`` or ``partial``), and one
    serializer validates start to end on one thread, so each thread keeps one bound set per
    class and every serializer of that class on that thread uses it. The kept fields are
    bound to a serializer of the class made for them, holding no request: bound to the
    first serializer that asked, they would keep its request (the caller's words) alive as
    long as the thread.
    """

    @cached_property
    def fields(self):
        kept = _fields_kept.__dict__
        fields = kept.get(type(self))
        if fields is None:
            fields = kept[type(self)] = BindingDict(type(self)())
            for name, field in self.get_fields().items():
                fields[name] = field
        return fields


class _IdentityFields(_FieldsKeptPerThread):
    """Who is calling (used only as agents.caller allows)."""

    phone_number = StrictCharField(required=False, allow_blank=True, allow_null=True, max_length=32)


def _dig_string(data, *path: str) -> str:
    for key in path:
        if not isinstance(data, dict):
            return ""
        data = data.get(key)
    if isinstance(data, int) and not isinstance(data, bool):
        return str(data)  # Vapi's ids are strings; a numeric one still names the call
    return text_sanitise(data)[:256] if isinstance(data, str) else ""


def caller_claims(body: dict, *, conversation_header: str = "") -> CallerClaims:
    """What a chat completion body (validated or not) says about its caller.

    Only string values count, so it is safe on a body that was never validated.
    """
    call = body.get("call")
    return CallerClaims(
        phone_number=_dig_string(body, "phone_number"),
        customer_numbers=tuple(
            number
            for number in (_dig_string(body, "customer", "number"), _dig_string(call, "customer", "number"))
            if number
        ),
        from_vapi=isinstance(call, dict),
        call_id=_dig_string(call, "id") or _dig_string(call, "callId"),
        user=_dig_string(body, "user"),
        conversation_header=conversation_header,
    )


def _params(attrs: dict) -> GenerationParams:
    response_format = attrs.get("response_format")
    return GenerationParams(
        temperature=attrs.get("temperature"),
        top_p=attrs.get("top_p"),
        max_tokens=attrs.get("max_tokens") or attrs.get("max_completion_tokens"),
        stop=attrs.get("stop") or (),
        response_format=_wire_format(response_format) if response_format else None,
    )


def _wire_format(response_format: dict) -> dict | None:
    """``response_format`` as an upstream takes it; None for plain text."""
    if response_format["type"] == "text":
        return None
    if response_format["type"] == "json_object":
        return {"type": "json_object"}
    return {"type": "json_schema", "json_schema": dict(response_format["json_schema"])}


class _SamplingFields(_IdentityFields):
    temperature = StrictFloatField(required=False, allow_null=True, min_value=0, max_value=2)
    top_p = StrictFloatField(required=False, allow_null=True, min_value=0, max_value=1)
    max_tokens = StrictIntegerField(required=False, allow_null=True, min_value=1)


class ChatCompletionRequestSerializer(_SamplingFields):
    """``POST …/chat/completions``; ``chat_request()`` gives the typed request."""

    model = StrictCharField(required=False, allow_blank=True, allow_null=True, max_length=256)
    messages = MessageSerializer(many=True, allow_empty=False, max_length=settings.MAX_MESSAGES)
    stream = StrictBooleanField(required=False, allow_null=True, default=None)
    stream_options = StreamOptionsSerializer(required=False, allow_null=True)
    max_completion_tokens = StrictIntegerField(required=False, allow_null=True, min_value=1)
    stop = StopField(required=False, allow_null=True)
    n = StrictIntegerField(required=False, allow_null=True)
    user = StrictCharField(required=False, allow_blank=True, allow_null=True, max_length=256)
    tools = ToolSpecSerializer(many=True, required=False, allow_null=True, max_length=settings.MAX_TOOLS)
    tool_choice = ToolChoiceField(required=False, allow_null=True)
    parallel_tool_calls = StrictBooleanField(required=False, allow_null=True)
    response_format = ResponseFormatSerializer(required=False, allow_null=True)
    customer = StrictDictField(required=False, allow_null=True)
    call = StrictDictField(required=False, allow_null=True)

    def validate_n(self, value):
        if value not in (None, 1):
            raise serializers.ValidationError("Only n=1 is supported.")
        return value

    def validate(self, attrs):
        names = [tool["function"]["name"] for tool in attrs.get("tools") or ()]
        if len(names) != len(set(names)):
            raise serializers.ValidationError({"tools": "Tool names must be unique."})
        choice = attrs.get("tool_choice")
        if choice not in (None, *TOOL_CHOICES) and choice not in names:
            raise serializers.ValidationError({"tool_choice": f"No tool named {choice!r} in tools."})
        if choice == "required" and not names:
            attrs["tool_choice"] = None
        return attrs

    def chat_request(self, *, conversation_header: str = "") -> ChatRequest:
        """The validated request as a ``ChatRequest`` (call ``is_valid`` first)."""
        attrs = self.validated_data
        response_format = attrs.get("response_format")
        return ChatRequest(
            messages=tuple(MessageSerializer.message(m) for m in attrs["messages"]),
            model=attrs.get("model") or "",
            stream=attrs.get("stream"),
            include_usage=bool((attrs.get("stream_options") or {}).get("include_usage")),
            params=_params(attrs),
            tools=tuple(
                ClientToolSpec(
                    name=tool["function"]["name"],
                    description=tool["function"].get("description", ""),
                    parameters=tool["function"].get("parameters") or {},
                )
                for tool in attrs.get("tools") or ()
            ),
            tool_choice=attrs.get("tool_choice"),
            parallel_tool_calls=attrs.get("parallel_tool_calls") is not False,
            response_format=ResponseFormat(
                type=response_format["type"],
                schema=(response_format.get("json_schema") or {}).get("schema"),
                name=(response_format.get("json_schema") or {}).get("name", ""),
                strict=bool((response_format.get("json_schema") or {}).get("strict")),
            )
            if response_format
            else None,
            claims=caller_claims(attrs, conversation_header=conversation_header),
        )


class ChatStreamRequestSerializer(_SamplingFields):
    """``POST /api/llm/chat/stream``: a whole conversation, stateless."""

    messages = MessageSerializer(many=True, allow_empty=False, max_length=settings.MAX_MESSAGES)

    def chat_request(self, *, conversation_header: str = "") -> ChatRequest:
        attrs = self.validated_data
        return ChatRequest(
            messages=tuple(MessageSerializer.message(m) for m in attrs["messages"]),
            stream=True,
            params=_params(attrs),
            claims=CallerClaims(
                phone_number=attrs.get("phone_number") or "", conversation_header=conversation_header
            ),
        )


class SessionChatRequestSerializer(_SamplingFields):
    """``POST /api/llm/chat/session/stream``: one message; the server keeps the history."""

    session_id = StrictCharField(validators=[_CONVERSATION_ID])
    message = StrictCharField(max_length=settings.MAX_MESSAGE_CHARS, trim_whitespace=False)
    system_prompt = StrictCharField(
        required=False, allow_blank=True, max_length=settings.MAX_MESSAGE_CHARS, trim_whitespace=False
    )

    def chat_request(self, *, history: list[Message]) -> ChatRequest:
        """The request: the system prompt, the kept ``history``, then this message."""
        attrs = self.validated_data
        system = [Message("system", attrs["system_prompt"])] if attrs.get("system_prompt") else []
        return ChatRequest(
            messages=(*system, *history, Message("user", attrs["message"])),
            stream=True,
            params=_params(attrs),
            claims=CallerClaims(
                phone_number=attrs.get("phone_number") or "",
                conversation_header=f"session:{attrs['session_id']}",
            ),
        )


class AgentQueryRequestSerializer(_IdentityFields):
    """``POST /api/agent/query/``: one question, one JSON answer."""

    query = StrictCharField(max_length=settings.MAX_MESSAGE_CHARS)
    conversation_id = StrictCharField(required=False, validators=[_CONVERSATION_ID])

    def chat_request(self) -> ChatRequest:
        attrs = self.validated_data
        return ChatRequest(
            messages=(Message("user", attrs["query"]),),
            stream=False,
            claims=CallerClaims(
                phone_number=attrs.get("phone_number") or "",
                conversation_header=attrs.get("conversation_id", ""),
            ),
        )
