"""``LLM_PROVIDER=openai``: any OpenAI-compatible Chat Completions server.

llama.cpp's server, vLLM, Ollama, OpenAI itself or a corporate gateway with a self-signed
certificate, through Fintalk's lean LLM (``agents.providers.openai_llm``) over one
keep-alive connection pool per process whose certificate checking follows
``LLM_VERIFY_SSL``. The upstream's own token counts are asked for
(``stream_options.include_usage``) and used when it sends them.
"""

import logging
import ssl
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

import aiohttp
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from agents.providers.base import GenerationParams, public_url, upstream_attempt_timeout, upstream_max_tokens
from agents.providers.openai_http import OpenAIHTTP, UpstreamStatus
from agents.providers.openai_llm import OpenAICompatibleLLM, UpstreamState
from fintalk import errors

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True, eq=False)
class OpenAICompatibleProvider:
    # response_format is handed to the upstream (OpenAI-compatible servers take it).
    supports_response_format: ClassVar[bool] = True
    model: str
    endpoint: str
    api_key: str = field(repr=False)
    verify_ssl: bool = True
    stream: bool = True
    timeout: float = 30.0
    max_retries: int = 2
    max_tokens: int = 2048
    tool_calling: bool = True
    name: str = "openai"
    reports_usage: bool = True
    max_connections: int = 256
    _http: OpenAIHTTP = field(init=False, repr=False)
    _state: UpstreamState = field(init=False, repr=False, default_factory=UpstreamState)

    def __post_init__(self) -> None:
        http = OpenAIHTTP(
            endpoint=self.endpoint,
            api_key=self.api_key,
            verify_ssl=self.verify_ssl,
            timeout=self.timeout,
            max_retries=self.max_retries,
            max_connections=self.max_connections,
        )
        object.__setattr__(self, "_http", http)

    @classmethod
    def from_settings(cls, *, model: str = "") -> "OpenAICompatibleProvider":
        endpoint = settings.LLM_API_ENDPOINT.rstrip("/")
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ImproperlyConfigured(
                f"LLM_API_ENDPOINT={endpoint!r} is not an http(s) URL: set it to the "
                "OpenAI-compatible server's base URL, e.g. https://llm.example.com/v1."
            )
        if not model:
            raise ImproperlyConfigured(
                "The openai provider needs the upstream's model name: set LLM_MODEL "
                "(or name it in LLM_FALLBACKS as openai=MODEL)."
            )
        provider = cls(
            model=model,
            endpoint=endpoint,
            api_key=settings.LLM_API_KEY,
            verify_ssl=settings.LLM_VERIFY_SSL,
            stream=settings.LLM_STREAM,
            timeout=upstream_attempt_timeout(),
            max_retries=settings.LLM_MAX_RETRIES,
            max_tokens=settings.LLM_MAX_TOKENS,
            tool_calling=settings.LLM_TOOL_CALLING,
            max_connections=settings.LLM_MAX_CONCURRENT_STREAMS,
        )
        provider.log_configuration()
        return provider

    @property
    def url(self) -> str:
        return public_url(self.endpoint)

    @property
    def health_notes(self) -> list[str]:
        """What this process learnt about the upstream that an operator should know."""
        if self._state.refuses_stream_options:
            return [
                "The upstream refuses stream_options: requests go without it, so usage is "
                "estimated unless the upstream reports it anyway."
            ]
        return []

    def log_configuration(self) -> None:
        logger.info(
            "LLM provider openai: endpoint %s, model %s, TLS verification %s, streaming %s, "
            "tool calling %s, timeout %gs, retries %d",
            self.url,
            self.model,
            "on" if self.verify_ssl else "OFF",
            "on" if self.stream else "off",
            "on" if self.tool_calling else "off",
            self.timeout,
            self.max_retries,
        )
        if not self.verify_ssl:
            logger.warning(
                "LLM_VERIFY_SSL=false: the TLS certificate of %s is NOT verified. Anyone on the "
                "network path could impersonate the model server and read LLM_API_KEY and every "
                "conversation. Use this only for a self-signed certificate on a network you "
                "trust; better, trust the server's CA with SSL_CERT_FILE and keep verification on.",
                self.url,
            )

    def llm(self, params: GenerationParams) -> OpenAICompatibleLLM:
        options: dict[str, Any] = {"max_tokens": upstream_max_tokens(params, self.max_tokens)}
        if params.temperature is not None:
            options["temperature"] = params.temperature
        if params.top_p is not None:
            options["top_p"] = params.top_p
        if params.response_format is not None:
            options["response_format"] = params.response_format
        return OpenAICompatibleLLM(
            http=self._http,
            state=self._state,
            model=self.model,
            max_tokens=options["max_tokens"],
            options=options,
            stream_upstream=self.stream,
            offer_tools=self.tool_calling,
        )

    async def probe(self) -> None:
        """``GET /models``: free, and proves the address, the certificate and the key."""
        listing = await self._http.get_json("/models", timeout=min(self.timeout, PROBE_TIMEOUT_SECONDS))
        data = listing.get("data") if isinstance(listing, dict) else None
        listed = [str(model.get("id")) for model in data or [] if isinstance(model, dict)]
        if listed and self.model not in listed:
            raise errors.UpstreamError(
                f"The model server at {self.url} does not list the model {self.model!r} "
                f"(it lists {', '.join(listed[:10])}). Check LLM_MODEL.",
                code="upstream_model_not_found",
            )

    def upstream_error(self, error: Exception) -> errors.FintalkError | None:
        """What went wrong with the upstream, and which setting to check."""
        where = f"the model server at {self.url}"
        if isinstance(error, UpstreamStatus):
            return self._status_error(error, where)
        if isinstance(error, TimeoutError):
            return errors.UpstreamTimeout(
                f"{where.capitalize()} did not answer within LLM_TIMEOUT={self.timeout:g}s. Check "
                "that it is up and not overloaded, or raise LLM_TIMEOUT."
            )
        if isinstance(error, (aiohttp.ClientError, ssl.SSLError, ConnectionError)):
            return self._connection_error(error, where)
        return None

    def _status_error(self, error: UpstreamStatus, where: str) -> errors.FintalkError:
        said = error.message
        if error.status == 401:
            return errors.UpstreamError(
                f"{where.capitalize()} rejected the API key (401: {said}). Check "
                "LLM_API_KEY: it may be wrong, expired or missing.",
                code="upstream_authentication_failed",
            )
        if error.status == 403:
            return errors.UpstreamError(
                f"{where.capitalize()} refused access (403: {said}). Check that "
                f"LLM_API_KEY may use the model {self.model!r}.",
                code="upstream_permission_denied",
            )
        if error.status == 404:
            return errors.UpstreamError(
                f"{where.capitalize()} does not know the model {self.model!r} (404: {said}). "
                f"Check LLM_MODEL against the server's model list (GET {self.url}/models) and "
                "that LLM_API_ENDPOINT ends with /v1.",
                code="upstream_model_not_found",
            )
        if error.status == 429:
            retry_after = max(1, int(error.retry_after or 1))
            return errors.UpstreamRateLimited(
                f"{where.capitalize()} is rate limiting Fintalk (429: {said}). Retry in {retry_after} s.",
                retry_after=retry_after,
            )
        if error.status == 400:
            if error.code == "context_length_exceeded" or "context" in said.lower():
                return errors.InvalidRequest(
                    f"The conversation is too long for the model {self.model!r}: {said}",
                    code="context_length_exceeded",
                )
            return errors.UpstreamError(f"{where.capitalize()} rejected Fintalk's request (400: {said}).")
        kind = errors.UpstreamUnavailable if error.status == 503 else errors.UpstreamError
        return kind(f"{where.capitalize()} failed ({error.status}: {said}).")

    def _connection_error(self, error: Exception, where: str) -> errors.FintalkError:
        certificate = _certificate_failure(error)
        if certificate is not None:
            return errors.UpstreamError(
                f"TLS certificate verification failed for {self.url} ({certificate}). If the "
                "server uses a self-signed certificate, set LLM_VERIFY_SSL=false (or trust its "
                "CA with SSL_CERT_FILE).",
                code="upstream_tls_error",
            )
        reason = _root_cause(error)
        if isinstance(error, aiohttp.ClientConnectorError):
            return errors.UpstreamUnavailable(
                f"Cannot connect to {where} ({reason}). Check LLM_API_ENDPOINT and that the "
                "server is running and reachable from here.",
                code="upstream_unreachable",
            )
        return errors.UpstreamError(
            f"The connection to {where} broke while it was answering ({reason}).",
            code="upstream_connection_lost",
        )


def _chain(error: BaseException):
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _certificate_failure(error: BaseException) -> str | None:
    for link in _chain(error):
        if isinstance(link, aiohttp.ClientConnectorCertificateError):
            link = link.certificate_error
        if isinstance(link, ssl.SSLCertVerificationError):
            return link.verify_message or str(link)
    return None


def _root_cause(error: BaseException) -> str:
    last = list(_chain(error))[-1]
    return str(last) or type(last).__name__
