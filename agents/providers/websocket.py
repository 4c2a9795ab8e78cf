"""``LLM_PROVIDER=websocket``: a home-grown LLM server that speaks JSON over WebSocket.

The protocol, its tool-calling convention, retries and failover are described and
implemented in ``agents.providers.websocket_llm``; ``agents.providers.mock_websocket_server``
is a runnable server that speaks it.
"""

import asyncio
import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from websockets.exceptions import ConnectionClosed

from agents.providers.base import GenerationParams, public_url, upstream_attempt_timeout, upstream_max_tokens
from agents.providers.websocket_llm import DEFAULT_MODEL, WebSocketLLM
from fintalk import errors

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebSocketProvider:
    model: str
    urls: tuple[str, ...]
    api_key: str = field(default="", repr=False)
    verify_ssl: bool = True
    timeout: float = 30.0
    max_retries: int = 2
    stream: bool = True
    max_tokens: int = 2048
    tool_calling: bool = True
    name: str = "websocket"
    reports_usage: bool = True

    @classmethod
    def from_settings(cls, *, model: str = "") -> "WebSocketProvider":
        urls = tuple(settings.LLM_WEBSOCKET_URL)
        if not urls:
            raise ImproperlyConfigured(
                "The websocket provider needs LLM_WEBSOCKET_URL: one or more ws:// or wss:// "
                "URLs, comma-separated, e.g. ws://llm.internal:8080/chat."
            )
        for url in urls:
            if urlsplit(url).scheme not in ("ws", "wss") or not urlsplit(url).hostname:
                raise ImproperlyConfigured(f"LLM_WEBSOCKET_URL entry {url!r} is not a ws:// or wss:// URL.")
        provider = cls(
            model=model or DEFAULT_MODEL,
            urls=urls,
            api_key=settings.LLM_API_KEY,
            verify_ssl=settings.LLM_VERIFY_SSL,
            timeout=upstream_attempt_timeout(),
            max_retries=settings.LLM_MAX_RETRIES,
            stream=settings.LLM_STREAM,
            max_tokens=settings.LLM_MAX_TOKENS,
            tool_calling=settings.LLM_TOOL_CALLING,
        )
        logger.info(
            "LLM provider websocket: %s, model %s, TLS verification %s, streaming %s, tool calling %s, "
            "timeout %gs, retries %d",
            provider.url,
            provider.model,
            "on" if provider.verify_ssl else "OFF",
            "on" if provider.stream else "off",
            "on" if provider.tool_calling else "off",
            provider.timeout,
            provider.max_retries,
        )
        if not provider.verify_ssl and any(url.startswith("wss:") for url in urls):
            logger.warning(
                "LLM_VERIFY_SSL=false: the TLS certificates of %s are NOT verified; anyone on the "
                "network path could impersonate the model server and read LLM_API_KEY.",
                provider.url,
            )
        return provider

    @property
    def url(self) -> str:
        return ", ".join(public_url(url) for url in self.urls)

    def llm(self, params: GenerationParams) -> WebSocketLLM:
        return WebSocketLLM(
            urls=list(self.urls),
            model=self.model,
            api_key=self.api_key,
            verify_ssl=self.verify_ssl,
            timeout=self.timeout,
            max_retries=self.max_retries,
            stream_replies=self.stream,
            offer_tools=self.tool_calling,
            max_tokens=upstream_max_tokens(params, self.max_tokens),
            temperature=params.temperature,
        )

    def upstream_error(self, error: Exception) -> errors.FintalkError | None:
        return None  # WebSocketLLM raises Fintalk's errors itself

    async def probe(self) -> None:
        """Open a connection and exchange a ping: the first URL that answers is enough."""
        llm = self.llm(GenerationParams())
        failures = []
        for url in self.urls:
            try:
                connection = await llm.open_connection(url)
            except errors.FintalkError as failure:
                failures.append(failure)
                continue
            try:
                await asyncio.wait_for(await connection.ping(), self.timeout)
                return
            except (TimeoutError, ConnectionClosed):
                failures.append(errors.UpstreamTimeout(f"{public_url(url)} did not answer a ping."))
            finally:
                await connection.close()
        raise failures[-1]
