"""``LLM_PROVIDER=openai``: any OpenAI-compatible Chat Completions server.

llama.cpp's server, vLLM, Ollama, OpenAI itself or a corporate gateway with a self-signed
certificate: LlamaIndex's ``OpenAILike`` over the official ``openai`` client, on an httpx
client whose certificate checking follows ``LLM_VERIFY_SSL``. The upstream's own token
counts are asked for (``stream_options.include_usage``) and used when it sends them.
"""

import asyncio
import logging
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

import httpx
import openai
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, ChatResponseAsyncGen, MessageRole
from llama_index.core.bridge.pydantic import Field
from llama_index.core.tools import BaseTool
from llama_index.llms.openai.utils import resolve_tool_choice
from llama_index.llms.openai_like import OpenAILike

from agents.providers.base import GenerationParams, public_url, upstream_max_tokens
from agents.providers.tool_specs import openai_tool_spec
from fintalk import errors

logger = logging.getLogger(__name__)

# LlamaIndex only uses the window to decide when to drop old history, which Fintalk never
# wants: the upstream itself says when a conversation is too long (a 400, mapped below).
CONTEXT_WINDOW = 1_000_000
PROBE_TIMEOUT_SECONDS = 5.0
# The openai client insists on a key; servers that need none ignore it.
NO_KEY = "no-key"


class UpstreamChatLLM(OpenAILike):
    """``OpenAILike`` that can ask for whole replies or offer no tools, and that derives
    each tool's JSON schema once (``agents.providers.tool_specs``), not per request."""

    stream_upstream: bool = Field(default=True, description="Stream from the upstream.")
    offer_tools: bool = Field(default=True, description="Send the agent's tools upstream.")

    @classmethod
    def class_name(cls) -> str:
        return "UpstreamChatLLM"

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: str | dict | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """As ``OpenAI._prepare_chat_with_tools``, with the tool specs computed once per tool."""
        messages = list(chat_history or [])
        if isinstance(user_msg, str):
            user_msg = ChatMessage(role=MessageRole.USER, content=user_msg)
        if user_msg is not None:
            messages.append(user_msg)
        prepared: dict[str, Any] = {"messages": messages, **kwargs}
        if tools and self.offer_tools:
            # As ``extra_body``: the specs are plain JSON already, and the openai SDK would
            # walk every schema again on every request (~7 ms for the bank's sixteen tools).
            prepared["extra_body"] = {
                "tools": [openai_tool_spec(tool.metadata) for tool in tools],
                "tool_choice": resolve_tool_choice(tool_choice, tool_required),
                "parallel_tool_calls": allow_parallel_tool_calls,
            }
        return prepared

    async def astream_chat(self, messages: list[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        if self.stream_upstream:
            return await super().astream_chat(messages, **kwargs)
        reply = await self.achat(messages, **kwargs)

        async def whole_reply() -> ChatResponseAsyncGen:
            yield ChatResponse(
                message=reply.message,
                delta=reply.message.content or "",
                raw=reply.raw,
                additional_kwargs=reply.additional_kwargs,
            )

        return whole_reply()


@dataclass(frozen=True, eq=False)
class OpenAICompatibleProvider:
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
    # httpx's pooled connections belong to one event loop: one client per loop.
    _clients: WeakKeyDictionary = field(default_factory=WeakKeyDictionary, repr=False)

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
            timeout=settings.LLM_TIMEOUT,
            max_retries=settings.LLM_MAX_RETRIES,
            max_tokens=settings.LLM_MAX_TOKENS,
            tool_calling=settings.LLM_TOOL_CALLING,
        )
        provider.log_configuration()
        return provider

    @property
    def url(self) -> str:
        return public_url(self.endpoint)

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

    def client(self) -> openai.AsyncOpenAI:
        """The openai client of the running event loop."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = openai.AsyncOpenAI(
                api_key=self.api_key or NO_KEY,
                base_url=self.endpoint,
                max_retries=self.max_retries,
                timeout=self.timeout,
                http_client=openai.DefaultAsyncHttpxClient(verify=self.verify_ssl, timeout=self.timeout),
            )
            self._clients[loop] = client
        return client

    def llm(self, params: GenerationParams) -> UpstreamChatLLM:
        options: dict[str, Any] = {}
        if params.temperature is not None:
            options["temperature"] = params.temperature
        extra: dict[str, Any] = {"stream_options": {"include_usage": True}}
        if params.top_p is not None:
            extra["top_p"] = params.top_p
        return UpstreamChatLLM(
            model=self.model,
            api_base=self.endpoint,
            api_key=self.api_key or NO_KEY,
            async_openai_client=self.client(),
            # The openai client retries (LLM_MAX_RETRIES, honouring Retry-After); LlamaIndex's
            # own retry layer would multiply the attempts.
            max_retries=0,
            timeout=self.timeout,
            is_chat_model=True,
            is_function_calling_model=True,
            context_window=CONTEXT_WINDOW,
            max_tokens=upstream_max_tokens(params, self.max_tokens),
            additional_kwargs=extra,
            stream_upstream=self.stream,
            offer_tools=self.tool_calling,
            **options,
        )

    async def probe(self) -> None:
        """``GET /models``: free, and proves the address, the certificate and the key."""
        client = self.client().with_options(max_retries=0, timeout=min(self.timeout, PROBE_TIMEOUT_SECONDS))
        listed = [model.id for model in (await client.models.list()).data]
        if listed and self.model not in listed:
            raise errors.UpstreamError(
                f"The model server at {self.url} does not list the model {self.model!r} "
                f"(it lists {', '.join(listed[:10])}). Check LLM_MODEL.",
                code="upstream_model_not_found",
            )

    def upstream_error(self, error: Exception) -> errors.FintalkError | None:
        """What went wrong with the upstream, and which setting to check."""
        where = f"the model server at {self.url}"
        if isinstance(error, (openai.APITimeoutError, httpx.TimeoutException)):
            return errors.UpstreamTimeout(
                f"{where.capitalize()} did not answer within LLM_TIMEOUT={self.timeout:g}s. Check "
                "that it is up and not overloaded, or raise LLM_TIMEOUT."
            )
        if isinstance(error, (openai.APIConnectionError, httpx.TransportError)):
            return self._connection_error(error, where)
        if isinstance(error, openai.AuthenticationError):
            return errors.UpstreamError(
                f"{where.capitalize()} rejected the API key (401: {_said(error)}). Check "
                "LLM_API_KEY: it may be wrong, expired or missing.",
                code="upstream_authentication_failed",
            )
        if isinstance(error, openai.PermissionDeniedError):
            return errors.UpstreamError(
                f"{where.capitalize()} refused access (403: {_said(error)}). Check that "
                f"LLM_API_KEY may use the model {self.model!r}.",
                code="upstream_permission_denied",
            )
        if isinstance(error, openai.NotFoundError):
            return errors.UpstreamError(
                f"{where.capitalize()} does not know the model {self.model!r} (404: {_said(error)}). "
                f"Check LLM_MODEL against the server's model list (GET {self.url}/models) and "
                "that LLM_API_ENDPOINT ends with /v1.",
                code="upstream_model_not_found",
            )
        if isinstance(error, openai.RateLimitError):
            retry_after = _retry_after(error.response)
            return errors.UpstreamRateLimited(
                f"{where.capitalize()} is rate limiting Fintalk (429: {_said(error)}). "
                f"Retry in {retry_after} s.",
                retry_after=retry_after,
            )
        if isinstance(error, openai.BadRequestError):
            said = _said(error)
            if error.code == "context_length_exceeded" or "context" in said.lower():
                return errors.InvalidRequest(
                    f"The conversation is too long for the model {self.model!r}: {said}",
                    code="context_length_exceeded",
                )
            return errors.UpstreamError(f"{where.capitalize()} rejected Fintalk's request (400: {said}).")
        if isinstance(error, openai.APIStatusError):
            kind = errors.UpstreamUnavailable if error.status_code == 503 else errors.UpstreamError
            return kind(f"{where.capitalize()} failed ({error.status_code}: {_said(error)}).")
        if isinstance(error, openai.APIError):
            return errors.UpstreamError(f"{where.capitalize()} reported an error: {_said(error)}")
        return None

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
        if _in_chain(error, httpx.ConnectError):
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


def _in_chain(error: BaseException, kind: type[BaseException]) -> bool:
    return any(isinstance(link, kind) for link in _chain(error))


def _certificate_failure(error: BaseException) -> str | None:
    for link in _chain(error):
        if isinstance(link, ssl.SSLCertVerificationError):
            return link.verify_message or str(link)
    return None


def _root_cause(error: BaseException) -> str:
    last = list(_chain(error))[-1]
    return str(last) or type(last).__name__


def _said(error: openai.APIError) -> str:
    """The upstream's own error message, short."""
    body = error.body
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])[:300]
    return str(error.message)[:300]


def _retry_after(response: httpx.Response) -> int:
    try:
        return max(1, int(float(response.headers.get("retry-after", "1"))))
    except ValueError:
        return 1
