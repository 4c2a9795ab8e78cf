"""Is the model reachable? Each provider's cheap probe, and the last failure it had.

A probe's result is kept for a few seconds so that a health URL polled by several monitors
cannot become a stream of requests to a paid model. Failures are remembered per worker
process: both the probe's and those of real requests (noted by ``agents.answering``).
"""

import time
from datetime import datetime

from django.utils import timezone

from agents.providers.base import LLMProvider
from fintalk import errors

PROBE_CACHE_SECONDS = 5.0

# Keyed by the provider's identity; providers are built once per process.
_last_failures: dict[int, tuple[LLMProvider, str, datetime]] = {}
_probes: dict[int, tuple[LLMProvider, float, dict]] = {}


def provider_failure_note(*, provider: LLMProvider, message: str) -> None:
    """Remember ``message`` as the provider's latest failure."""
    _last_failures[id(provider)] = (provider, message, timezone.now())


async def provider_health(*, provider: LLMProvider) -> dict:
    """The provider's health, in the shape of ``GET /api/llm/health``'s ``llm_service``."""
    cached = _probes.get(id(provider))
    if cached is None or cached[0] is not provider or time.monotonic() - cached[1] > PROBE_CACHE_SECONDS:
        cached = (provider, time.monotonic(), await _probe(provider))
        _probes[id(provider)] = cached
    failure = _last_failures.get(id(provider))
    last_failure = failure[1:] if failure is not None and failure[0] is provider else None
    return {
        **cached[2],
        "provider": provider.name,
        "model": provider.model,
        "url": provider.url,
        "last_error": last_failure[0] if last_failure else None,
        "last_error_at": last_failure[1].isoformat() if last_failure else None,
        # Degradations the provider found while answering (e.g. an upstream refusing
        # stream_options), for providers that track any.
        "notes": list(getattr(provider, "health_notes", ())),
    }


async def _probe(provider: LLMProvider) -> dict:
    started = time.perf_counter()
    try:
        await provider.probe()
    except Exception as raised:
        error = provider.upstream_error(raised)
        if error is None:
            error = raised if isinstance(raised, errors.FintalkError) else errors.UpstreamError(
                f"The health probe failed: {type(raised).__name__}."
            )
        provider_failure_note(provider=provider, message=error.message)
        return {
            "status": "unhealthy",
            # A refused connection or a silence is "not connected"; any answer, even a 401, is.
            "connected": not isinstance(error, (errors.UpstreamUnavailable, errors.UpstreamTimeout)),
            "latency_ms": None,
        }
    return {
        "status": "healthy",
        "connected": True,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
    }
