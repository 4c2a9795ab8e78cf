"""LLM provider selection: ``LLM_PROVIDER`` names one implementation, ``LLM_FALLBACKS`` more.

Providers are built once per process, at start-up (``agents.apps``), so that a wrong
setting stops the process with a message instead of failing the first call.
"""

import logging
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from agents.providers.base import GenerationParams, LLMProvider

__all__ = [
    "GenerationParams",
    "LLMProvider",
    "PROVIDER_NAMES",
    "provider_build",
    "provider_configured",
    "provider_fallbacks",
]

logger = logging.getLogger(__name__)

PROVIDER_NAMES = ("offline", "openai", "bedrock", "websocket")


def provider_build(name: str, *, model: str = "") -> LLMProvider:
    """The provider called ``name``, answering with ``model`` (empty: its default)."""
    if name == "offline":
        from agents.providers.offline import OfflineProvider

        return OfflineProvider.from_settings(model=model)
    if name == "openai":
        from agents.providers.openai_like import OpenAICompatibleProvider

        return OpenAICompatibleProvider.from_settings(model=model)
    if name == "bedrock":
        from agents.providers.bedrock import BedrockProvider

        return BedrockProvider.from_settings(model=model)
    if name == "websocket":
        from agents.providers.websocket import WebSocketProvider

        return WebSocketProvider.from_settings(model=model)
    raise ImproperlyConfigured(
        f"LLM provider {name!r} is not known: use one of {', '.join(PROVIDER_NAMES)}."
    )


@cache
def provider_configured() -> LLMProvider:
    """The provider named by ``LLM_PROVIDER`` (with ``LLM_MODEL``), built once per process."""
    return provider_build(settings.LLM_PROVIDER, model=settings.LLM_MODEL)


@cache
def provider_fallbacks() -> tuple[LLMProvider, ...]:
    """The providers of ``LLM_FALLBACKS``, in the order they are tried."""
    seen = {settings.LLM_PROVIDER}
    chain = []
    for entry in settings.LLM_FALLBACKS:
        name, _, model = (part.strip() for part in entry.partition("="))
        name = name.lower()
        if name in seen:
            raise ImproperlyConfigured(
                f"LLM_FALLBACKS names {name!r} more than once or as the primary LLM_PROVIDER; "
                "list each provider once."
            )
        seen.add(name)
        chain.append(provider_build(name, model=model))
    if chain:
        logger.info(
            "LLM fallbacks: %s, then a spoken apology",
            " -> ".join([settings.LLM_PROVIDER, *(p.name for p in chain)]),
        )
    return tuple(chain)
