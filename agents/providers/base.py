"""The interface every LLM provider implements.

A provider turns configuration into a LlamaIndex function-calling LLM for one request,
translates its library's failures into Fintalk's errors, and can prove with a cheap probe
that its model is reachable. Each implementation lives in its own module beside this one.
"""

from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from llama_index.core.llms.function_calling import FunctionCallingLLM

from fintalk import errors


@dataclass(frozen=True)
class GenerationParams:
    """Sampling parameters a client asked for; providers apply what they support."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = field(default_factory=tuple)
    # OpenAI's response_format as sent (json_object/json_schema), for providers whose
    # ``supports_response_format`` is true; None for plain text.
    response_format: dict | None = None


class LLMProvider(Protocol):
    name: str

    @property
    def model(self) -> str:
        """The model name this provider answers with."""

    @property
    def url(self) -> str | None:
        """Where the model runs, for logs and health checks; never carries a secret."""

    def llm(self, params: GenerationParams) -> FunctionCallingLLM:
        """A LlamaIndex LLM ready for one request (built inside the loop that uses it)."""

    @property
    def reports_usage(self) -> bool:
        """True when the provider reports real token counts (otherwise they are estimated)."""

    def upstream_error(self, error: Exception) -> errors.FintalkError | None:
        """Fintalk's error for a failure of this provider's library; None if not one of its own."""

    async def probe(self) -> None:
        """A cheap request proving the model answers; raises ``FintalkError`` when it does not."""


def upstream_attempt_timeout() -> float:
    """Seconds one upstream attempt may stay silent: ``LLM_TIMEOUT``, or less when needed
    so that every provider of the chain gets its turn before the first-token deadline.

    The first-token budget (90% of ``FINTALK_FIRST_TOKEN_TIMEOUT``, the rest left for the
    apology) is shared by the chain (``LLM_PROVIDER`` then ``LLM_FALLBACKS``), and each
    provider's share by its ``LLM_MAX_RETRIES + 1`` attempts. With the defaults (30 s, no
    fallback, 2 retries) an attempt waits 8.5 s, not 30 s × 3.
    """
    providers = 1 + len(settings.LLM_FALLBACKS)
    share = 0.9 * settings.FIRST_TOKEN_TIMEOUT / providers
    retries = settings.LLM_MAX_RETRIES
    # The pauses between retries (0.5 s doubling, at most 8 s) come out of the share too.
    pauses = sum(min(0.5 * 2**attempt, 8.0) for attempt in range(retries))
    return min(settings.LLM_TIMEOUT, max(share - pauses, 0.1 * share) / (retries + 1))


def public_url(url: str) -> str:
    """``url`` without user, password, query or fragment: safe to log and to show."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def upstream_max_tokens(params: GenerationParams, configured: int) -> int:
    """The output budget to ask of a real model.

    A client's small ``max_tokens`` (Vapi sends 250) would cut a tool call's JSON or Nova's
    reasoning short, so the model gets at least ``LLM_MAX_TOKENS``; the client's limit is
    applied to the visible answer by ``agents.limits``.
    """
    return max(params.max_tokens or 0, configured)
