"""LLM provider selection: ``LLM_PROVIDER`` names one implementation."""

from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from agents.providers.base import GenerationParams, LLMProvider

__all__ = ["GenerationParams", "LLMProvider", "provider_configured", "PROVIDER_NAMES"]

PROVIDER_NAMES = ("offline",)


def _build(name: str) -> LLMProvider:
    if name == "offline":
        from agents.providers.offline import OfflineProvider

        return OfflineProvider.from_settings()
    raise ImproperlyConfigured(
        f"LLM_PROVIDER={name!r} is not known: use one of {', '.join(PROVIDER_NAMES)}."
    )


@cache
def provider_configured() -> LLMProvider:
    """The provider named by the settings, built once per process."""
    return _build(settings.LLM_PROVIDER)
