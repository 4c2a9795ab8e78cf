"""``LLM_PROVIDER=bedrock``: Amazon Bedrock through the Converse API, Amazon Nova Lite by default.

LlamaIndex's ``BedrockConverse`` speaks one request shape for every Bedrock model and
streams tool use (ConverseStream), which an agent on Nova needs; the older
``llama-index-llms-bedrock`` class calls InvokeModel with per-model prompt formats and is
deprecated upstream. Region and credentials come from boto3's own chain (environment,
``AWS_PROFILE``, SSO, instance or task role): Fintalk never holds AWS keys itself.

AWS's tool-use guidance for Nova is applied: greedy decoding (temperature 0, top-k 1)
whatever the client asked, a generous output budget (``LLM_MAX_TOKENS``), instructions in
the system role (``BedrockConverse`` sends system messages as Converse's ``system``), and
the ``<thinking>`` text Nova writes before a tool call is dropped, not prompted away
(``agents.providers.thinking``).
"""

import asyncio
import functools
import logging
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, ChatResponseAsyncGen, MessageRole
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.tools import BaseTool
from llama_index.llms.bedrock_converse import BedrockConverse
from llama_index.llms.bedrock_converse.utils import converse_with_retry, messages_to_converse_messages

from agents.providers.base import GenerationParams, upstream_max_tokens
from agents.providers.overrides import ConverseEvents, bedrock_calls_in, converse_events_chosen_by
from agents.providers.tool_specs import converse_tool_spec
from fintalk import errors

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "amazon.nova-lite-v1:0"
# Nova's tool calls succeed more often with greedy decoding (AWS: "Troubleshooting tool calls").
NOVA_GREEDY_TEMPERATURE = 0.0
NOVA_GREEDY_FIELDS = {"additionalModelRequestFields": {"inferenceConfig": {"topK": 1}}}
# Bedrock publishes no Retry-After; its quotas refill per second and per minute.
THROTTLED_RETRY_AFTER_SECONDS = 2


# Threads of the Bedrock pool started before the first call (the rest, if the pool is
# larger, start when needed): 256 idle threads cost ~25 ms of CPU once and ~5 MB.
STARTED_THREADS_MAX = 256


def bedrock_executor(size: int) -> ThreadPoolExecutor:
    """The process's threads for Bedrock calls (one per open stream), ``size`` at most, the
    first ``STARTED_THREADS_MAX`` of them started now (as many as the host allows); every ``BedrockConverse`` call runs
    there (``agents.providers.overrides``).

    ``ThreadPoolExecutor`` starts a thread only when a call finds none idle, and
    ``Thread.start()`` waits until the new thread runs — on the event loop. When 64 streams
    opened at once on a busy worker, starting some 30 threads among them delayed the last
    requests until the first answers had ended (48–57 of 64 open upstream at once).
    """
    return _executor(size, os.getpid())


@cache
def _executor(size: int, pid: int) -> ThreadPoolExecutor:
    # Per process: threads do not survive a fork.
    executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="bedrock")
    started = min(size, STARTED_THREADS_MAX)
    # Each task waits for all the others, so each submit finds no idle thread and starts one.
    everyone = threading.Barrier(started, timeout=60)
    for count in range(started):
        try:
            executor.submit(_wait_for_all, everyone)
        except RuntimeError as error:  # the host's thread limit (a container's pids limit)
            everyone.abort()  # frees the threads already started
            logger.warning(
                "Bedrock pool: %d of %d threads started before the first call (%s); the rest "
                "start when needed. Lower LLM_MAX_CONCURRENT_STREAMS to fit the host's limit.",
                count,
                started,
                error,
            )
            break
    bedrock_calls_in(executor)
    return executor


def _wait_for_all(barrier: threading.Barrier) -> None:
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        pass  # a thread could not start (in time): the pool starts it on demand instead


class FintalkBedrockConverse(BedrockConverse):
    """``BedrockConverse`` whose tools' Converse specs are derived once per tool, with a
    speculative first call.

    ``speculate_with_tools`` sends now the ConverseStream request that
    ``astream_chat_with_tools`` with the same arguments would send; the next streamed call
    reads that open stream when its request is equal (messages, system prompt, tools,
    inference settings), and otherwise closes it before its own request leaves. Either way
    one answer is read, so nothing is billed or run twice. ``end_turn`` (always, when the
    turn ends) closes a speculation nobody took and every stream of the turn still open.
    """

    _speculation: ConverseEvents | None = PrivateAttr(default=None)
    # A tuple: a copy (``BedrockProvider.llm``) shares its template's private values.
    _opened: tuple[ConverseEvents, ...] = PrivateAttr(default=())

    @classmethod
    def class_name(cls) -> str:
        return "FintalkBedrockConverse"

    def speculate_with_tools(self, tools: list[BaseTool], **kwargs: Any) -> None:
        """Send now the request ``astream_chat_with_tools(tools, **kwargs)`` would send.
        Call it from the running loop."""
        prepared = self._prepare_chat_with_tools_compat(tools, **kwargs)
        messages = prepared.pop("messages")
        events = ConverseEvents(
            converse_with_retry,
            self._client,
            self._converse_request(messages, prepared),
            bedrock_executor(settings.LLM_MAX_CONCURRENT_STREAMS),
        )
        events.start()
        self._drop_speculation()
        self._speculation = events

    def _converse_request(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> dict[str, Any]:
        """What ``BedrockConverse.astream_chat(messages, **kwargs)`` asks
        ``converse_with_retry`` for, but the client (checked by the speculation's test in
        ``tests/agents/providers/test_bedrock_speculation.py``)."""
        converse_messages, system_prompt = messages_to_converse_messages(messages, self.model)
        all_kwargs = self._get_all_kwargs(**kwargs)
        if self.thinking is not None:
            all_kwargs["thinking"] = self.thinking
        return {
            "messages": converse_messages,
            "system_prompt": system_prompt,
            "system_prompt_caching": self.system_prompt_caching,
            "tool_caching": self.tool_caching,
            "max_retries": self.max_retries,
            "guardrail_identifier": self.guardrail_identifier,
            "guardrail_version": self.guardrail_version,
            "guardrail_stream_processing_mode": self.guardrail_stream_processing_mode,
            "trace": self.trace,
            **all_kwargs,
        }

    def _choose(self, wanted: ConverseEvents) -> ConverseEvents:
        """The stream that answers ``wanted``: the speculation when it is the same request."""
        speculation, self._speculation = self._speculation, None
        chosen = wanted
        if speculation is not None:
            if speculation.same_request(wanted):
                chosen = speculation
            else:
                speculation.close()
        self._opened = (*self._opened, chosen)
        return chosen

    def _drop_speculation(self) -> bool:
        speculation, self._speculation = self._speculation, None
        if speculation is None:
            return False
        speculation.close()
        return True

    async def astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        """``BedrockConverse.astream_chat``, answered by the speculation when it matches."""
        chosen_by = converse_events_chosen_by.set(self._choose)
        try:
            return await super().astream_chat(messages, **kwargs)
        finally:
            converse_events_chosen_by.reset(chosen_by)
            # Only the first call may take it: a later one never asks the same thing.
            self._drop_speculation()

    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """``BedrockConverse.achat``; a speculation (a streamed request) is closed first."""
        self._drop_speculation()
        return await super().achat(messages, **kwargs)

    async def end_turn(self) -> bool:
        """The turn is over: close a speculation nobody took and every stream of the turn
        still open (a no-op for one read to its end). True if there was a speculation."""
        opened, self._opened = self._opened, ()
        for events in opened:
            events.close()
        return self._drop_speculation()

    def _prepare_chat_with_tools(
        self,
        tools: list[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_caching: bool = False,
        tool_choice: dict | str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """As ``BedrockConverse._prepare_chat_with_tools`` (``tools_to_converse_tools``)."""
        messages = list(chat_history or [])
        if isinstance(user_msg, str):
            user_msg = ChatMessage(role=MessageRole.USER, content=user_msg)
        if user_msg is not None:
            messages.append(user_msg)
        tool_config = None
        if tools:
            specs: list[dict] = [converse_tool_spec(tool.metadata) for tool in tools]
            if tool_caching:
                specs.append({"cachePoint": {"type": "default"}})
            if isinstance(tool_choice, str):
                choice: dict = {"tool": {"name": tool_choice}}
            elif tool_choice:
                choice = tool_choice
            elif self.supports_forced_tool_calls and tool_required:
                choice = {"any": {}}
            else:
                choice = {"auto": {}}
            tool_config = {"tools": specs, "toolChoice": choice}
        return {"messages": messages, "tools": tool_config, **kwargs}


@dataclass(frozen=True, eq=False)
class BedrockProvider:
    model: str
    region: str
    client: BaseClient = field(repr=False)
    template: BedrockConverse = field(repr=False)
    max_tokens: int = 2048
    name: str = "bedrock"
    reports_usage: bool = True

    @classmethod
    def from_settings(cls, *, model: str = "") -> "BedrockProvider":
        model = model or DEFAULT_MODEL
        guardrail_id, guardrail_version = settings.BEDROCK_GUARDRAIL_ID, settings.BEDROCK_GUARDRAIL_VERSION
        if bool(guardrail_id) != bool(guardrail_version):
            raise ImproperlyConfigured(
                "Set both BEDROCK_GUARDRAIL_ID and BEDROCK_GUARDRAIL_VERSION (a number or DRAFT), "
                "or neither."
            )
        streams = settings.LLM_MAX_CONCURRENT_STREAMS
        config = Config(
            # One connection per open stream, as many as the executor has threads.
            max_pool_connections=streams,
            connect_timeout=settings.LLM_TIMEOUT,
            read_timeout=settings.LLM_TIMEOUT,
            retries={"mode": "standard", "total_max_attempts": settings.LLM_MAX_RETRIES + 1},
            user_agent_extra="fintalk",
            # Bedrock validates every request itself (ValidationException); botocore's own
            # check walks the tools' JSON schemas on every call: ~0.2 of its ~0.9 ms of CPU
            # per ConverseStream request, on the GIL every stream shares.
            parameter_validation=False,
        )
        try:
            client = boto3.Session(region_name=settings.AWS_REGION or None).client(
                "bedrock-runtime", config=config
            )
        except NoRegionError:
            raise ImproperlyConfigured(
                "LLM_PROVIDER=bedrock needs an AWS region: set AWS_REGION (e.g. us-east-1), "
                "or a region in the AWS profile."
            ) from None
        except ProfileNotFound as error:
            raise ImproperlyConfigured(f"AWS_PROFILE names no known profile: {error}.") from None
        nova = "amazon.nova" in model
        bedrock_executor(streams)
        template = FintalkBedrockConverse(
            model=model,
            client=client,
            botocore_config=config,
            # botocore retries (LLM_MAX_RETRIES, with jitter); LlamaIndex's own retry layer
            # sleeps 4-10 s between attempts, far too long for a caller on the phone.
            max_retries=1,
            timeout=settings.LLM_TIMEOUT,
            max_tokens=settings.LLM_MAX_TOKENS,
            guardrail_identifier=guardrail_id or None,
            guardrail_version=guardrail_version or None,
            **({"temperature": NOVA_GREEDY_TEMPERATURE, "additional_kwargs": NOVA_GREEDY_FIELDS} if nova else {}),
        )
        try:
            calls_tools = template.metadata.is_function_calling_model
        except ValueError as error:
            raise ImproperlyConfigured(f"LLM_MODEL={model!r} is not a Bedrock model LlamaIndex knows: {error}") from None
        if not calls_tools:
            raise ImproperlyConfigured(
                f"LLM_MODEL={model!r} cannot call tools through Converse; use a model that can, "
                f"such as {DEFAULT_MODEL}."
            )
        provider = cls(
            model=model,
            region=client.meta.region_name,
            client=client,
            template=template,
            max_tokens=settings.LLM_MAX_TOKENS,
        )
        logger.info(
            "LLM provider bedrock: model %s, region %s, endpoint %s, guardrail %s, timeout %gs, retries %d",
            model,
            provider.region,
            provider.url,
            f"{guardrail_id}:{guardrail_version}" if guardrail_id else "none",
            settings.LLM_TIMEOUT,
            settings.LLM_MAX_RETRIES,
        )
        return provider

    @property
    def url(self) -> str:
        return self.client.meta.endpoint_url

    @property
    def nova(self) -> bool:
        return "amazon.nova" in self.model

    def llm(self, params: GenerationParams) -> FintalkBedrockConverse:
        # A copy shares the template's boto3 client: building one costs ~100 ms.
        update: dict[str, Any] = {"max_tokens": upstream_max_tokens(params, self.max_tokens)}
        if not self.nova:
            if params.temperature is not None:
                # OpenAI allows up to 2; Converse up to 1.
                update["temperature"] = min(params.temperature, 1.0)
            if params.top_p is not None:
                update["additional_kwargs"] = {"inferenceConfig": {"topP": params.top_p}}
        return self.template.model_copy(update=update)

    async def probe(self) -> None:
        """A one-token Converse call: proves region, credentials, model access and IAM."""
        await asyncio.get_running_loop().run_in_executor(
            bedrock_executor(settings.LLM_MAX_CONCURRENT_STREAMS),
            functools.partial(
                self.client.converse,
                modelId=self.model,
                messages=[{"role": "user", "content": [{"text": "ping"}]}],
                inferenceConfig={"maxTokens": 1},
            ),
        )

    def upstream_error(self, error: Exception) -> errors.FintalkError | None:
        """Bedrock's failure as Fintalk's error, with what to fix."""
        if isinstance(error, ClientError):
            return self._service_error(error)
        if isinstance(error, (ReadTimeoutError, ConnectTimeoutError)):
            return errors.UpstreamTimeout(
                f"Amazon Bedrock ({self.region}) did not answer within LLM_TIMEOUT="
                f"{settings.LLM_TIMEOUT:g}s. Retry, or raise LLM_TIMEOUT."
            )
        if isinstance(error, EndpointConnectionError):
            return errors.UpstreamUnavailable(
                f"Cannot connect to Amazon Bedrock at {self.url}. Check AWS_REGION, the network "
                "path (VPC endpoint, proxy) and AWS_ENDPOINT_URL_BEDROCK_RUNTIME if set.",
                code="upstream_unreachable",
            )
        if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
            return errors.UpstreamError(
                "No AWS credentials were found for Amazon Bedrock. Provide them the usual way: "
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or an instance/task role.",
                code="upstream_authentication_failed",
            )
        if isinstance(error, BotoCoreError):
            return errors.UpstreamError(f"Amazon Bedrock could not be called: {error}")
        return None

    def _service_error(self, error: ClientError) -> errors.FintalkError:
        details = error.response.get("Error", {})
        # Errors inside a ConverseStream are named like its members: "throttlingException".
        code = str(details.get("Code", ""))
        code = code[:1].upper() + code[1:]
        said = str(details.get("Message", ""))[:300]
        where = f"Amazon Bedrock ({self.region}, model {self.model})"
        if code in ("ThrottlingException", "ServiceQuotaExceededException"):
            return errors.UpstreamRateLimited(
                f"{where} is throttling Fintalk ({code}: {said}). Retry shortly; if it persists, "
                "ask for a higher quota in Service Quotas or use a cross-region inference "
                f"profile (e.g. us.{DEFAULT_MODEL}).",
                retry_after=THROTTLED_RETRY_AFTER_SECONDS,
            )
        if code == "AccessDeniedException":
            return errors.UpstreamError(
                f"{where} denied access ({said}). Enable access to the model in the Bedrock "
                f"console for {self.region}, and allow bedrock:InvokeModel and "
                "bedrock:InvokeModelWithResponseStream on it in the IAM policy of these "
                "credentials.",
                code="upstream_permission_denied",
            )
        if code in ("UnrecognizedClientException", "ExpiredTokenException", "InvalidSignatureException"):
            return errors.UpstreamError(
                f"AWS rejected the credentials ({code}: {said}). Refresh or replace them.",
                code="upstream_authentication_failed",
            )
        if code == "ValidationException":
            if "too long" in said.lower() or "too many" in said.lower():
                return errors.InvalidRequest(
                    f"The conversation is too long for {self.model}: {said}", code="context_length_exceeded"
                )
            return errors.UpstreamError(
                f"{where} rejected Fintalk's request ({said}). Check LLM_MODEL (a model id or "
                f"inference profile available in {self.region}) and the BEDROCK_GUARDRAIL_* settings.",
                code="upstream_invalid_request",
            )
        if code == "ResourceNotFoundException":
            return errors.UpstreamError(
                f"{where} was not found ({said}). Check LLM_MODEL and AWS_REGION.",
                code="upstream_model_not_found",
            )
        if code in ("ModelNotReadyException", "ServiceUnavailableException"):
            return errors.UpstreamUnavailable(f"{where} is not ready ({code}: {said}). Retry in a moment.")
        if code == "ModelTimeoutException":
            return errors.UpstreamTimeout(f"{where} timed out while answering ({said}).")
        return errors.UpstreamError(f"{where} failed ({code}: {said}).")
