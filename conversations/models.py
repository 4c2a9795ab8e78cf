"""Conversation logs: a conversation (a call or a thread) and its turns (one per request).

A conversation is named by the client — Vapi's call id, ``X-Conversation-Id``, the
session endpoints' ``session_id`` or OpenAI's ``user`` — always within one API key
(``key``, as ``agents.caller`` spells it: ``call:…``, ``id:…``, ``user:…``, ``phone:…``).
A request that names none is a conversation of one turn. The conversation's columns are
kept up to date from its turns when each turn is written (``conversations.services``).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Channel(models.TextChoices):
    VAPI = "vapi", "Vapi voice call"
    API = "api", "API"
    WEB = "web", "Web front end"
    SESSION = "session", "Session stream"
    MQTT = "mqtt", "MQTT bridge"


class Status(models.TextChoices):
    COMPLETED = "completed"
    ERROR = "error"
    CANCELLED = "cancelled"


def estimated_cost(prompt_tokens: int, completion_tokens: int) -> float:
    """US dollars, at the configured per-token prices (``LLM_PRICE_*_PER_MILLION``)."""
    return (
        prompt_tokens * settings.LLM_PRICE_PROMPT_PER_MILLION
        + completion_tokens * settings.LLM_PRICE_COMPLETION_PER_MILLION
    ) / 1_000_000


class _TokenUsage:
    """Totals of a row with ``prompt_tokens`` and ``completion_tokens`` columns."""

    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def estimated_cost(self) -> float:
        """US dollars, at the configured per-token prices."""
        return estimated_cost(self.prompt_tokens, self.completion_tokens)


class Conversation(_TokenUsage, models.Model):
    """A call or a thread: every turn that named the same conversation with one API key."""

    Channel = Channel
    Status = Status

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    api_key = models.ForeignKey("api.ApiKey", null=True, blank=True, on_delete=models.SET_NULL)
    key = models.CharField(
        max_length=160,
        blank=True,
        help_text="How its turns name it within the API key (call:…, id:…, user:…, phone:…); "
        "empty for a request that named no conversation.",
    )
    external_id = models.CharField(
        "call or conversation id",
        max_length=128,
        blank=True,
        db_index=True,
        help_text="The id as the client sent it: Vapi's call id, X-Conversation-Id, session_id or user.",
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.API)
    caller_phone = models.CharField(max_length=20, blank=True, db_index=True)
    caller_asserted = models.BooleanField(
        default=False, help_text="The caller's number came from a trusted channel."
    )
    customer = models.ForeignKey("bank.Customer", null=True, blank=True, on_delete=models.SET_NULL)
    started_at = models.DateTimeField(db_index=True)
    last_activity_at = models.DateTimeField(db_index=True)
    turn_count = models.PositiveIntegerField("turns", default=0)
    status = models.CharField(
        max_length=16, choices=Status.choices, help_text="The latest turn's status."
    )
    answered_by = models.CharField(
        max_length=32, blank=True, help_text="Who answered the latest turn."
    )
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-last_activity_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["api_key", "key"], condition=~Q(key=""), name="conversations_one_per_key"
            )
        ]

    def __str__(self) -> str:
        name = self.external_id or f"{self.get_channel_display()} {self.started_at:%Y-%m-%d %H:%M:%S}"
        return f"{name} ({self.turn_count} turn{'s' if self.turn_count != 1 else ''})"


class Turn(_TokenUsage, models.Model):
    """One request of a conversation and everything that happened while answering it."""

    Channel = Channel
    Status = Status

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(Conversation, related_name="turns", on_delete=models.CASCADE)
    position = models.PositiveIntegerField(default=1, help_text="1 for the conversation's first turn.")
    completion_id = models.CharField(max_length=64, db_index=True)
    trace_id = models.CharField(
        max_length=32, blank=True, db_index=True, help_text="The request's OpenTelemetry trace, when tracing is on."
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.API)
    caller_phone = models.CharField(max_length=20, blank=True)
    caller_asserted = models.BooleanField(
        default=False, help_text="The caller's number came from a trusted channel."
    )
    customer = models.ForeignKey("bank.Customer", null=True, blank=True, on_delete=models.SET_NULL)
    provider = models.CharField(max_length=32, help_text="The configured primary provider.")
    model = models.CharField(max_length=128)
    answered_by = models.CharField(
        max_length=32,
        blank=True,
        db_index=True,
        help_text="The provider whose answer was sent (after fallbacks); \"apology\" when none could.",
    )
    answered_model = models.CharField(max_length=128, blank=True)
    provider_failures = models.JSONField(
        default=list,
        blank=True,
        help_text="Each provider that failed on the way: provider, model, status, error.",
    )
    streamed = models.BooleanField(default=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    finish_reason = models.CharField(max_length=16, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(db_index=True)
    time_to_first_token_ms = models.FloatField(null=True, blank=True)
    duration_ms = models.FloatField()
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    usage_estimated = models.BooleanField(default=True)
    generated_chars = models.PositiveIntegerField(
        default=0,
        help_text="Characters of answer the model produced; more than the answer shown when "
        "the client went away before receiving them all.",
    )
    replaced = models.JSONField(
        default=list,
        blank=True,
        help_text="What could not be stored as it was (NaN, lone surrogates, NUL...) and was replaced.",
    )

    class Meta:
        ordering = ["started_at", "position"]

    def __str__(self) -> str:
        return f"turn {self.position} {self.started_at:%Y-%m-%d %H:%M:%S} ({self.status})"


class Message(models.Model):
    """A message of a turn: the request's messages, then the answer that was sent."""

    turn = models.ForeignKey(Turn, related_name="messages", on_delete=models.CASCADE)
    position = models.PositiveIntegerField()
    role = models.CharField(max_length=16)
    content = models.TextField(blank=True)
    is_answer = models.BooleanField(default=False)
    earlier = models.BooleanField(
        default=False,
        help_text="Carried from earlier turns: the request's messages up to its last assistant message.",
    )

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:60]}"


class ToolCall(models.Model):
    turn = models.ForeignKey(Turn, related_name="tool_calls", on_delete=models.CASCADE)
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=128)
    arguments = models.JSONField(default=dict, blank=True)
    result = models.TextField(blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name
