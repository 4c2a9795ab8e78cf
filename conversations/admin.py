import json

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from conversations.models import Conversation


class ReadOnlyAdmin(admin.ModelAdmin):
    """Logs are evidence: staff read them, nobody edits them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = (
        "started_at",
        "channel",
        "caller_phone",
        "status",
        "finish_reason",
        "model",
        "answered_by",
        "ttft",
        "duration",
        "total_tokens",
        "cost",
    )
    list_filter = (
        "status",
        "channel",
        "provider",
        "answered_by",
        ("started_at", admin.DateFieldListFilter),
    )
    search_fields = (
        "caller_phone",
        "external_call_id",
        "completion_id",
        "messages__content",
    )
    date_hierarchy = "started_at"
    list_select_related = ("customer", "api_key")
    fieldsets = (
        (None, {"fields": ("transcript",)}),
        (
            "Request",
            {
                "fields": (
                    ("channel", "external_call_id", "completion_id"),
                    ("caller_phone", "caller_asserted", "customer"),
                    ("api_key", "provider", "model", "streamed"),
                )
            },
        ),
        (
            "Outcome",
            {
                "fields": (
                    ("status", "finish_reason"),
                    ("answered_by", "answered_model"),
                    "failures",
                    "error",
                    ("started_at", "time_to_first_token_ms", "duration_ms"),
                    ("prompt_tokens", "completion_tokens", "usage_estimated"),
                )
            },
        ),
    )
    readonly_fields = ("transcript", "failures")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("messages", "tool_calls")

    @admin.display(description="TTFT (ms)", ordering="time_to_first_token_ms")
    def ttft(self, obj):
        return None if obj.time_to_first_token_ms is None else round(obj.time_to_first_token_ms, 1)

    @admin.display(description="Duration (ms)", ordering="duration_ms")
    def duration(self, obj):
        return round(obj.duration_ms, 1)

    @admin.display(description="Provider failures")
    def failures(self, obj):
        """Each provider that failed before the answer, in the order they were tried."""
        if not obj.provider_failures:
            return "—"
        return format_html_join(
            "",
            '<div style="margin:.2em 0"><strong>{}</strong> ({}) &rarr; {}: '
            '<span style="white-space:pre-wrap">{}</span></div>',
            (
                (failure.get("provider"), failure.get("model"), failure.get("status"), failure.get("error"))
                for failure in obj.provider_failures
            ),
        )

    @admin.display(description="Est. cost (USD)")
    def cost(self, obj):
        return f"{obj.estimated_cost:.6f}"

    @admin.display(description="Transcript")
    def transcript(self, obj):
        entries = sorted(
            [(m.position, "message", m) for m in obj.messages.all()]
            + [(t.position, "tool", t) for t in obj.tool_calls.all()],
            key=lambda entry: entry[0],
        )
        rows = []
        for _, kind, item in entries:
            if kind == "message":
                label = "answer" if item.is_answer else item.role
                rows.append(
                    format_html(
                        '<div style="margin:.4em 0"><strong>{}</strong>: '
                        '<span style="white-space:pre-wrap">{}</span></div>',
                        label,
                        item.content,
                    )
                )
            else:
                outcome = item.error or item.result
                rows.append(
                    format_html(
                        '<div style="margin:.4em 0 .4em 1.5em;color:#555">'
                        "<strong>tool</strong> <code>{}({})</code>{} &rarr; "
                        '<span style="white-space:pre-wrap">{}</span></div>',
                        item.name,
                        json.dumps(item.arguments, ensure_ascii=False),
                        "" if item.duration_ms is None else f" in {item.duration_ms:.1f} ms",
                        ("ERROR: " if item.error else "") + outcome,
                    )
                )
        return format_html_join("", "{}", ((row,) for row in rows)) if rows else "—"
