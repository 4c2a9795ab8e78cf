"""The interface every LLM provider implements.

A provider turns configuration into a LlamaIndex function-calling LLM for one request,
translates its library's failures into Fintalk's errors, and can prove with a cheap probe
that its model is reachable. Each implementation lives in its own module beside this one.
"""

from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from llama_index.core.llms.function_calling import FunctionCallingLLM

from fintalk import errors


@dataclass(frozen=True)
class GenerationParams:
    """Sampling parameters a client asked for; providers apply what they support."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = field(default_factory=tuple)


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
