"""Health endpoints: is the process alive, is it ready for traffic, does the model answer.

None needs an API key, so none shows a secret: URLs lose their user, password and query,
errors are the messages a client would see, database failures only their kind.
"""

import asyncio
import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from agents.providers import provider_configured, provider_fallbacks
from agents.providers.health import provider_health
from api.base import AsyncAPIView
from api.ratelimit import counter_store_reachable

logger = logging.getLogger(__name__)


class LivenessSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok"])


class ReadinessChecksSerializer(serializers.Serializer):
    database = serializers.ChoiceField(choices=["ok", "unreachable"])
    llm_provider = serializers.CharField()
    redis = serializers.ChoiceField(
        choices=["ok", "unreachable", "not configured"],
        help_text="Unreachable: answers go on, but rate limits, token budgets and session "
        "histories are not kept (status `degraded`, still 200).",
    )


class ReadinessSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ready", "degraded", "not ready"])
    checks = ReadinessChecksSerializer()


class LLMServiceHealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["healthy", "unhealthy"])
    connected = serializers.BooleanField()
    latency_ms = serializers.FloatField(allow_null=True, help_text="Time the probe took.")
    provider = serializers.CharField()
    model = serializers.CharField()
    url = serializers.CharField(allow_null=True)
    last_error = serializers.CharField(allow_null=True)
    last_error_at = serializers.DateTimeField(allow_null=True)
    notes = serializers.ListField(
        child=serializers.CharField(), help_text="What the provider learnt while answering (e.g. "
        "an upstream that refuses stream_options)."
    )


class LLMHealthSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    llm_service = LLMServiceHealthSerializer()
    fallbacks = LLMServiceHealthSerializer(many=True, required=False)
    timestamp = serializers.DateTimeField()


class LivenessView(AsyncAPIView):
    """``GET /healthz``: the process is up and serving requests."""

    authentication_required = False

    @extend_schema(auth=[], responses={200: LivenessSerializer})
    async def get(self, request):
        return JsonResponse({"status": "ok"})


def _database_reachable() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        logger.exception("Readiness check: the database is not reachable")
        return False


class ReadinessView(AsyncAPIView):
    """``GET /readyz``: the database answers and an LLM provider is configured (503 if not).

    Redis unreachable is ``degraded`` with a 200: the process still answers (limits fail
    open), so a load balancer must keep sending it traffic.
    """

    authentication_required = False

    @extend_schema(auth=[], responses={200: ReadinessSerializer, 503: ReadinessSerializer})
    async def get(self, request):
        database = await sync_to_async(_database_reachable)()
        try:
            provider = provider_configured().name
        except ImproperlyConfigured as error:
            provider = None
            logger.error("Readiness check: %s", error)
        ready = database and provider is not None
        redis = "not configured"
        if settings.REDIS_URL:
            redis = "ok" if await counter_store_reachable() else "unreachable"
        status = "not ready" if not ready else "degraded" if redis == "unreachable" else "ready"
        return JsonResponse(
            {
                "status": status,
                "checks": {
                    "database": "ok" if database else "unreachable",
                    "llm_provider": provider or "not configured",
                    "redis": redis,
                },
            },
            status=200 if ready else 503,
        )


class LLMHealthView(AsyncAPIView):
    """``GET /api/llm/health``: a cheap probe of the model (and of each fallback).

    200 when the primary provider answers its probe, 503 when it does not.
    """

    authentication_required = False

    @extend_schema(auth=[], responses={200: LLMHealthSerializer, 503: LLMHealthSerializer})
    async def get(self, request):
        providers = (provider_configured(), *provider_fallbacks())
        primary, *fallbacks = await asyncio.gather(
            *(provider_health(provider=provider) for provider in providers)
        )
        healthy = primary["status"] == "healthy"
        body = {"success": healthy, "llm_service": primary, "timestamp": timezone.now().isoformat()}
        if fallbacks:
            body["fallbacks"] = fallbacks
        return JsonResponse(body, status=200 if healthy else 503)
