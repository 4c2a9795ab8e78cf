"""The conversation log as bank staff read it: a list of calls and threads, each one a
transcript of all its turns, with tool calls, timings, fallbacks, errors and cost."""

import json

from django.conf import settings
from django.contrib import admin
from django.db.models import Prefetch, Q
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from agents.language.phones import phone_normalize
from conversations.models import Conversation, Message, ToolCall, Turn
from fintalk.admin import ReadOnlyModelAdmin


def masked_phone(phone: str) -> str:
    """A phone number as the list shows it: country code and last four digits."""
    if not phone:
        return ""
    return f"{phone[:2]}•••{phone[-4:]}" if len(phone) > 6 else "•••"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f} ms"


class AnyTurnStatusFilter(admin.SimpleListFilter):
    """Conversations with at least one turn in a status: one failed turn is worth a look."""

    title = "status (any turn)"
    parameter_name = "turn_status"

    def lookups(self, request, model_admin):
        return Turn.Status.choices

    def queryset(self, request, queryset):
        if self.value() in Turn.Status.values:
            return queryset.filter(Q(pk__in=Turn.objects.filter(status=self.value()).values("conversation")))
        return queryset


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyModelAdmin):
    list_display = (
        "started_at",
        "last_activity_at",
        "channel",
        "caller",
        "external_id",
        "turn_count",
        "status",
        "answered_by",
        "cost",
    )
    list_display_links = ("started_at", "external_id")
    list_filter = (
        "channel",
        "status",
        AnyTurnStatusFilter,
        ("customer", admin.RelatedOnlyFieldListFilter),
        ("started_at", admin.DateFieldListFilter),
    )
    search_fields = ("external_id", "turns__completion_id", "=turns__trace_id")
    search_help_text = (
        "A call or conversation id, a phone number (any format), a reference number (FT-…), "
        "a completion id or a trace id."
    )
    date_hierarchy = "started_at"
    list_select_related = ("customer", "api_key")
    fieldsets = (
        (None, {"fields": ("transcript",)}),
        (
            "Conversation",
            {
                "fields": (
                    ("channel", "external_id", "key"),
                    ("caller", "caller_asserted", "customer"),
                    ("api_key", "turn_count", "status", "answered_by"),
                    ("started_at", "last_activity_at"),
                    ("prompt_tokens", "completion_tokens", "cost"),
                )
            },
        ),
    )
    readonly_fields = ("transcript", "caller", "cost")

    def get_search_results(self, request, queryset, search_term):
        """Ids and completion ids as usual; also phone numbers in any format, and
        reference numbers or words in what was said and what the tools answered."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if not term:
            return results, may_have_duplicates
        matches = Q(pk__in=results.values("pk"))
        phone = phone_normalize(term, region=settings.PHONE_DEFAULT_REGION) if any(c.isdigit() for c in term) else None
        if phone:
            matches |= Q(caller_phone=phone) | Q(pk__in=Turn.objects.filter(caller_phone=phone).values("conversation"))
        said = Turn.objects.filter(
            Q(messages__content__icontains=term) | Q(tool_calls__result__icontains=term)
        ).values("conversation")
        matches |= Q(pk__in=said)
        return queryset.filter(matches), False

    @admin.display(description="Customer")
    def caller(self, obj):
        phone = masked_phone(obj.caller_phone)
        if obj.customer is not None:
            return f"{obj.customer.full_name} ({phone})" if phone else obj.customer.full_name
        return phone or "—"

    @admin.display(description="Est. cost (USD)")
    def cost(self, obj):
        return f"{obj.estimated_cost:.6f}"

    @admin.display(description="Transcript")
    def transcript(self, obj):
        turns = list(
            obj.turns.order_by("started_at", "position").prefetch_related(
                Prefetch("messages", queryset=Message.objects.order_by("position")),
                Prefetch("tool_calls", queryset=ToolCall.objects.order_by("position")),
            )
        )
        if not turns:
            return "—"
        return format_html_join("", "{}", ((_turn_html(turn),) for turn in turns))


def _turn_html(turn: Turn) -> SafeString:
    usage = f"{turn.prompt_tokens:,} + {turn.completion_tokens:,} tokens" + (
        " (estimated)" if turn.usage_estimated else ""
    )
    header = format_html(
        "<strong>Turn {}</strong> · {} · {} · <strong>{}</strong>{} · answered by {} · "
        "first token {} · duration {} · {} · ${}{}",
        turn.position,
        turn.started_at.strftime("%Y-%m-%d %H:%M:%S"),
        turn.get_channel_display(),
        turn.get_status_display(),
        f" ({turn.finish_reason})" if turn.finish_reason else "",
        turn.answered_by or "—",
        _ms(turn.time_to_first_token_ms),
        _ms(turn.duration_ms),
        usage,
        f"{turn.estimated_cost:.6f}",
        f" · trace {turn.trace_id}" if turn.trace_id else "",
    )
    notes = []
    for failure in turn.provider_failures:
        notes.append(
            format_html(
                "fallback: <strong>{}</strong> ({}) failed → {}: {}",
                failure.get("provider"),
                failure.get("model"),
                failure.get("status"),
                failure.get("error"),
            )
        )
    if turn.error:
        notes.append(format_html("<strong>error</strong>: {}", turn.error))
    if turn.status == Turn.Status.CANCELLED:
        notes.append(
            format_html(
                "cancelled: the answer below is what the client was sent; the model had generated {} characters",
                turn.generated_chars,
            )
        )
    for replaced in turn.replaced:
        notes.append(format_html("stored with a replacement: {}", replaced))
    messages = list(turn.messages.all())
    earlier = [m for m in messages if m.earlier]
    entries = sorted(
        [(m.position, m) for m in messages if not m.earlier] + [(t.position, t) for t in turn.tool_calls.all()],
        key=lambda entry: entry[0],
    )
    rows = []
    if earlier:
        rows.append(
            format_html(
                '<details style="margin:.3em 0;color:#666"><summary>{} earlier message(s) the request carried'
                "</summary>{}</details>",
                len(earlier),
                format_html_join("", "{}", ((_message_html(m),) for m in earlier)),
            )
        )
    for _, item in entries:
        rows.append(_message_html(item) if isinstance(item, Message) else _tool_html(item))
    return format_html(
        '<div class="turn" style="border-left:3px solid #79aec8;padding:.2em .8em;margin:.8em 0">'
        '<div>{}</div>{}{}</div>',
        header,
        format_html_join("", '<div style="color:#a33;margin:.2em 0">{}</div>', ((note,) for note in notes)),
        format_html_join("", "{}", ((row,) for row in rows)),
    )


def _message_html(message: Message) -> SafeString:
    return format_html(
        '<div style="margin:.4em 0"><strong>{}</strong>: <span style="white-space:pre-wrap">{}</span></div>',
        "answer" if message.is_answer else message.role,
        message.content,
    )


def _tool_html(call: ToolCall) -> SafeString:
    outcome = call.error or call.result
    return format_html(
        '<div style="margin:.4em 0 .4em 1.5em;color:#555">'
        "<strong>tool</strong> <code>{}({})</code>{} &rarr; "
        '<span style="white-space:pre-wrap">{}</span></div>',
        call.name,
        json.dumps(call.arguments, ensure_ascii=False),
        "" if call.duration_ms is None else f" in {call.duration_ms:,.1f} ms",
        ("ERROR: " if call.error else "") + outcome,
    )
