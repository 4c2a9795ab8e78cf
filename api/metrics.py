"""``GET /metrics`` for Prometheus, kept off the public internet."""

import hmac
import os

from django.conf import settings
from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from api.errors import error_response
from fintalk import errors

_LOOPBACK = {"127.0.0.1", "::1"}


def _registry() -> CollectorRegistry:
    # With several gunicorn workers, each writes to PROMETHEUS_MULTIPROC_DIR; add them up.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


def _allowed(request) -> bool:
    if settings.METRICS_TOKEN:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip(), settings.METRICS_TOKEN)
    return request.META.get("REMOTE_ADDR") in _LOOPBACK


async def metrics(request):
    if not _allowed(request):
        return error_response(
            errors.PermissionDenied(
                "Metrics are readable from this machine, or with METRICS_TOKEN as a bearer key."
            )
        )
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
