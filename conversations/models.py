import uuid

from django.conf import settings
from django.db import models


class Conversation(models.Model):
    """One completion request and everything that happened while answering it."""

    class Channel(models.TextChoices):
        VAPI = "vapi", "Vapi voice call"
        API = "api", "API"
        WEB = "web", "Web front end"
        SESSION = "session", "Session stream"

    class Status(models.TextChoices):
        COMPLETED = "completed"
        ERROR = "error"
        CANCELLED = "cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    completion_id = models.CharField(max_length=64, db_index=True)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.API)
    external_call_id = models.CharField(max_length=128, blank=True, db_index=True)
    caller_phone = models.CharField(max_length=20, blank=True, db_index=True)
    caller_asserted = models.BooleanField(
        default=False, help_text="The caller's number came from a trusted channel."
    )
    customer = models.ForeignKey(
        "bank.Customer", null=True, blank=True, on_delete=models.SET_NULL
    )
    api_key = models.ForeignKey("api.ApiKey", null=True, blank=True, on_delete=models.SET_NULL)
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

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.started_at:%Y-%m-%d %H:%M:%S} ({self.status})"

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def estimated_cost(self) -> float:
        """US dollars, at the configured per-token prices."""
        return estimated_cost(self.prompt_tokens, self.completion_tokens)


def estimated_cost(prompt_tokens: int, completion_tokens: int) -> float:
    return (
        prompt_tokens * settings.LLM_PRICE_PROMPT_PER_MILLION
        + completion_tokens * settings.LLM_PRICE_COMPLETION_PER_MILLION
    ) / 1_000_000


class Message(models.Model):
    """A message of the conversation: the request's messages, then the answer."""

    conversation = models.ForeignKey(
        Conversation, related_name="messages", on_delete=models.CASCADE
    )
    position = models.PositiveIntegerField()
    role = models.CharField(max_length=16)
    content = models.TextField(blank=True)
    is_answer = models.BooleanField(default=False)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:60]}"


class ToolCall(models.Model):
    conversation = models.ForeignKey(
        Conversation, related_name="tool_calls", on_delete=models.CASCADE
    )
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
