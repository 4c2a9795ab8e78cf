from datetime import timedelta

from django.contrib import admin, messages
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from api.keys import api_key_create
from api.models import ApiKey
from conversations.models import estimated_cost


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "prefix",
        "trusted_channel",
        "tokens_30_days",
        "cost_30_days",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("trusted_channel", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix")
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    fields = (
        "name",
        "trusted_channel",
        ("requests_per_minute", "tokens_per_day"),
        "prefix",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    actions = ["revoke"]

    def get_queryset(self, request):
        since = timezone.now() - timedelta(days=30)
        recent = Q(conversation__started_at__gte=since)
        return (
            super()
            .get_queryset(request)
            .annotate(
                prompt_30=Coalesce(Sum("conversation__prompt_tokens", filter=recent), 0),
                completion_30=Coalesce(Sum("conversation__completion_tokens", filter=recent), 0),
            )
        )

    @admin.display(description="Tokens (30 days)", ordering="prompt_30")
    def tokens_30_days(self, obj):
        return obj.prompt_30 + obj.completion_30

    @admin.display(description="Est. cost, USD (30 days)")
    def cost_30_days(self, obj):
        return f"{estimated_cost(obj.prompt_30, obj.completion_30):.4f}"

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        key, raw_key = api_key_create(name=obj.name, trusted_channel=obj.trusted_channel)
        key.requests_per_minute, key.tokens_per_day = obj.requests_per_minute, obj.tokens_per_day
        key.save(update_fields=["requests_per_minute", "tokens_per_day"])
        obj.pk = key.pk
        messages.warning(request, f"Copy the new key now; it will not be shown again: {raw_key}")

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} key(s).")
