"""A LlamaIndex LLM for a home-grown model server that speaks JSON over WebSocket.

The protocol is described here; ``agents.providers.mock_websocket_server`` is a
runnable server that speaks it. One connection per model step, one request on it:

    {"message": "<the latest user text>", "model": "...", "timestamp": "<ISO 8601>",
     "metadata": {"messages": [<the conversation, OpenAI chat format>],
                  "tools": [<OpenAI tool specs>]},
     "settings": {"max_tokens": 2048, "temperature": 0.2, "stream": true}}

The server answers, when streaming, with any number of ``{"delta": "text"}`` messages, then
always with one final message: ``{"response": "<the whole text>", "tokens_used": 150,
"model": "...", "finish_reason": "completed"}``. At any point it may instead send
``{"error": "message", "error_code": "..."}``.

Tool calling is a convention layered on the seed: the agent's tools travel in
``metadata.tools`` and the final message may carry ``"tool_calls": [{"id": "...", "name":
"...", "arguments": {...}}]`` (``finish_reason: "tool_calls"``); the tool results come
back in ``metadata.messages`` of the next request. A server that ignores ``tools`` simply
answers in text, and the agent answers without them. A final message may also carry
OpenAI-shaped ``"usage"``, which Fintalk then reports instead of its estimate.

Until the first reply arrives, a failed request is retried on the next URL of
``LLM_WEBSOCKET_URL``, round after round (``LLM_MAX_RETRIES``, backoff 0.25 s, 0.5 s,
1 s…); once the server has answered, a failure ends the answer.
"""

import asyncio
import json
import ssl
from contextlib import aclosing
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    MessageRole,
    TextBlock,
    ToolCallBlock,
)
from llama_index.core.bridge.pydantic import Field
from llama_index.core.llms.callbacks import llm_chat_callback
from llama_index.core.tools import BaseTool
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from agents.providers.base import public_url
from agents.providers.llm_base import FintalkLLM
from agents.providers.openai_wire import message_dicts
from agents.providers.tool_specs import openai_tool_spec
from fintalk import errors
from fintalk.ids import new_id

DEFAULT_MODEL = "websocket-llm"
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
BACKOFF_CAP_SECONDS = 2.0


def _is_chunk(message: dict) -> bool:
    return "delta" in message and "finish_reason" not in message


def _server_error(message: dict) -> errors.UpstreamError | None:
    error = message.get("error")
    if not error:
        return None
    if isinstance(error, dict):
        text, code = error.get("message") or json.dumps(error), error.get("code")
    else:
        text, code = message.get("error_message") or error, message.get("error_code")
    return errors.UpstreamError(
        f"The WebSocket LLM reported an error{f' ({code})' if code else ''}: {str(text)[:300]}"
    )


def _tool_call_block(call: dict) -> ToolCallBlock:
    function = call.get("function") or call  # the OpenAI shape is accepted too
    arguments = function.get("arguments") or {}
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments or "{}")
        except json.JSONDecodeError:
            raise errors.UpstreamError(
                f"The WebSocket LLM sent tool arguments that are not JSON: {arguments[:200]!r}"
            ) from None
    return ToolCallBlock(
        tool_call_id=str(call.get("id") or new_id("call_", hex_digits=24)),
        tool_name=str(function.get("name", "")),
        tool_kwargs=arguments,
    )


class WebSocketLLM(FintalkLLM):
    """A LlamaIndex function-calling LLM over the WebSocket protocol above."""

    urls: list[str] = Field(description="ws:// or wss:// URLs, tried in order.")
    model: str = Field(default=DEFAULT_MODEL)
    api_key: str = Field(default="", exclude=True, repr=False)
    timeout: float = Field(default=30.0, gt=0, description="Seconds to connect or to wait for a message.")
    max_retries: int = Field(default=2, ge=0, description="Rounds over the URLs after the first.")
    backoff_seconds: float = Field(default=0.25, ge=0, description="Pause before the first retry round.")
    verify_ssl: bool = Field(default=True, description="Check wss:// certificates.")
    stream_replies: bool = Field(default=True)
    max_tokens: int = Field(default=2048)
    temperature: float | None = Field(default=None)

    @classmethod
    def class_name(cls) -> str:
        return "WebSocketLLM"

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], tools: Sequence[BaseTool] = (), **kwargs: Any
    ) -> ChatResponseAsyncGen:
        request = self._request(messages, tools)

        async def replies() -> ChatResponseAsyncGen:
            text = ""
            async with aclosing(self._exchange(request)) as server_messages:
                async for message in server_messages:
                    if _is_chunk(message):
                        delta = str(message["delta"])
                        text += delta
                        yield ChatResponse(
                            message=ChatMessage(role=MessageRole.ASSISTANT, content=text), delta=delta, raw=message
                        )
                        continue
                    # A server that does not stream says everything in its final message.
                    delta = "" if text else str(message.get("response") or "")
                    text = text or delta
                    calls = [_tool_call_block(call) for call in message.get("tool_calls") or []]
                    yield ChatResponse(
                        message=ChatMessage(role=MessageRole.ASSISTANT, blocks=[TextBlock(text=text), *calls]),
                        delta=delta,
                        raw=message,
                    )

        return replies()

    def _request(self, messages: Sequence[ChatMessage], tools: Sequence[BaseTool]) -> dict:
        latest = next((m.content or "" for m in reversed(messages) if m.role == MessageRole.USER), "")
        options: dict[str, Any] = {"max_tokens": self.max_tokens, "stream": self.stream_replies}
        if self.temperature is not None:
            options["temperature"] = self.temperature
        return {
            "message": latest,
            "model": self.model,
            "timestamp": datetime.now(UTC).isoformat(),
            "metadata": {
                "messages": message_dicts(messages),
                "tools": [openai_tool_spec(tool.metadata) for tool in tools],
            },
            "settings": options,
        }

    async def _exchange(self, request: dict) -> AsyncIterator[dict]:
        """The server's messages for one request, up to and including its final one."""
        connection, url, message = await self._first_reply(request)
        try:
            while True:
                error = _server_error(message)
                if error is not None:
                    raise error
                yield message
                if not _is_chunk(message):
                    return
                message = await self._receive(connection, url)
        finally:
            await connection.close()

    async def _first_reply(self, request: dict) -> tuple[ClientConnection, str, dict]:
        """Send the request to the first URL that answers it, retrying round after round."""
        payload = json.dumps(request)
        failures: list[errors.UpstreamError] = []
        for attempt in range(self.max_retries + 1):
            if attempt:
                await asyncio.sleep(min(self.backoff_seconds * 2 ** (attempt - 1), BACKOFF_CAP_SECONDS))
            for url in self.urls:
                try:
                    connection = await self.open_connection(url)
                except (errors.UpstreamUnavailable, errors.UpstreamTimeout) as failure:
                    failures.append(failure)
                    continue
                try:
                    await connection.send(payload)
                    return connection, url, await self._receive(connection, url)
                except errors.UpstreamError as failure:
                    failures.append(failure)
                except ConnectionClosed as closed:
                    failures.append(errors.UpstreamError(f"{public_url(url)} closed the connection ({closed})."))
                await connection.close()
        summary = (
            f"No WebSocket LLM answered in {self.max_retries + 1} round(s) over LLM_WEBSOCKET_URL "
            f"({', '.join(public_url(url) for url in self.urls)}); the last failure: "
            f"{failures[-1].message} Check LLM_WEBSOCKET_URL and that the server is running."
        )
        if all(isinstance(failure, errors.UpstreamTimeout) for failure in failures):
            raise errors.UpstreamTimeout(summary)
        raise errors.UpstreamUnavailable(summary, code="upstream_unreachable")

    async def open_connection(self, url: str) -> ClientConnection:
        """A connection to ``url``, or the Fintalk error that says why there is none."""
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else None
        where = public_url(url)
        options: dict[str, Any] = {}
        if url.startswith("wss:") and not self.verify_ssl:
            options["ssl"] = tls = ssl.create_default_context()
            tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE
        try:
            return await connect(
                url, additional_headers=headers, open_timeout=self.timeout, max_size=MAX_MESSAGE_BYTES, **options
            )
        except InvalidStatus as refused:
            status = refused.response.status_code
            if status in (401, 403):
                raise errors.UpstreamError(
                    f"{where} refused Fintalk's key ({status}). Check LLM_API_KEY.",
                    code="upstream_authentication_failed",
                ) from None
            raise errors.UpstreamUnavailable(f"{where} refused the connection (HTTP {status}).") from None
        except TimeoutError:
            raise errors.UpstreamTimeout(f"{where} did not accept a connection within {self.timeout:g}s.") from None
        except ssl.SSLCertVerificationError as untrusted:
            raise errors.UpstreamError(
                f"TLS certificate verification failed for {where} ({untrusted.verify_message}). If the "
                "server uses a self-signed certificate, set LLM_VERIFY_SSL=false (or trust its CA "
                "with SSL_CERT_FILE).",
                code="upstream_tls_error",
            ) from None
        except (OSError, InvalidHandshake, InvalidURI) as failure:
            raise errors.UpstreamUnavailable(f"Cannot connect to {where} ({failure}).") from None

    async def _receive(self, connection: ClientConnection, url: str) -> dict:
        where = public_url(url)
        try:
            raw = await asyncio.wait_for(connection.recv(), self.timeout)
        except TimeoutError:
            raise errors.UpstreamTimeout(
                f"The WebSocket LLM at {where} sent nothing for LLM_TIMEOUT={self.timeout:g}s."
            ) from None
        except ConnectionClosed as closed:
            raise errors.UpstreamError(
                f"The WebSocket LLM at {where} closed the connection mid-answer ({closed}).",
                code="upstream_connection_lost",
            ) from None
        try:
            message = json.loads(raw)
        except (TypeError, json.JSONDecodeError):
            message = None
        if not isinstance(message, dict):
            raise errors.UpstreamError(f"The WebSocket LLM at {where} sent something that is not a JSON object.")
        return message
