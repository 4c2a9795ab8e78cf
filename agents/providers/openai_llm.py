"""The LlamaIndex LLM of ``LLM_PROVIDER=openai``: lean, over one keep-alive client.

The hot path is the product, so it is Fintalk's own: the request body is built straight
from LlamaIndex's messages (``agents.providers.openai_wire``), sent through the process's
shared connection pool (``agents.providers.openai_http``), and every SSE line becomes at
most one cheap ``ChatResponse`` — no ``openai`` client, no pydantic chunk models, no
LlamaIndex instrumentation event per chunk unless an instrumentation handler is
registered (then ``llm_chat_callback`` wraps the call as for any LlamaIndex LLM).

A **speculative first call** (``speculate``) sends the turn's first model request while the
agent is still being built; the agent's first ``astream_chat`` takes that open response
when its request body is byte for byte the speculated one, and otherwise the speculation
is cancelled (its connection closed) before the real request is sent. Either way exactly
one reply is read, so nothing is billed or run twice.
"""

import asyncio
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import aiohttp
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, ChatResponseAsyncGen
from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.llms.callbacks import llm_chat_callback

from agents.providers.llm_base import FintalkLLM
from agents.providers.openai_http import OpenAIHTTP, UpstreamStatus, drain, line_batches
from agents.providers.openai_wire import StreamReader, request_json, whole_reply
from agents.providers.overrides import instrumentation_active

CHAT_PATH = "/chat/completions"


class UpstreamState:
    """What one provider learns about its upstream while it runs (shared by its LLMs)."""

    def __init__(self) -> None:
        # Some servers reject ``stream_options``; asked once, then never again.
        self.refuses_stream_options = False


def _refuses_stream_options(error: UpstreamStatus) -> bool:
    return error.status in (400, 422) and "stream_options" in error.message


class OpenAICompatibleLLM(FintalkLLM):
    """A function-calling LLM for any OpenAI-compatible ``/v1`` server.

    ``options`` are the request's sampling fields (``temperature``, ``top_p``, ``max_tokens``);
    ``stream_upstream`` off asks for whole replies. Built per request by
    ``OpenAICompatibleProvider.llm`` around the provider's shared ``OpenAIHTTP``.
    """

    options: dict[str, Any] = Field(default_factory=dict)
    stream_upstream: bool = Field(default=True)
    _http: OpenAIHTTP = PrivateAttr()
    _state: UpstreamState = PrivateAttr()
    _speculation: tuple[bytes, asyncio.Task] | None = PrivateAttr(default=None)
    _responses: list[aiohttp.ClientResponse] = PrivateAttr(default_factory=list)

    def __init__(self, *, http: OpenAIHTTP, state: UpstreamState, **data: Any) -> None:
        super().__init__(**data)
        self._http = http
        self._state = state

    @classmethod
    def class_name(cls) -> str:
        return "OpenAICompatibleLLM"

    def _body(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any], *, usage: bool = True) -> bytes:
        return request_json(
            model=self.model,
            messages=messages,
            tools=kwargs.get("tools") or (),
            choice=kwargs.get("tool_choice"),
            tool_required=bool(kwargs.get("tool_required")),
            parallel_tool_calls=bool(kwargs.get("allow_parallel_tool_calls")),
            stream=self.stream_upstream,
            include_usage=usage and not self._state.refuses_stream_options,
            options=self.options,
        )

    async def _open(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> aiohttp.ClientResponse:
        body = self._body(messages, kwargs)
        speculation, self._speculation = self._speculation, None
        if speculation is not None:
            if speculation[0] == body:
                try:
                    return await speculation[1]
                except UpstreamStatus as error:
                    if not (self.stream_upstream and _refuses_stream_options(error)):
                        raise
                    return await self._open_refused(messages, kwargs)
            await _cancel(speculation[1])
        try:
            return await self._http.post(CHAT_PATH, body)
        except UpstreamStatus as error:
            if not (self.stream_upstream and _refuses_stream_options(error)):
                raise
            return await self._open_refused(messages, kwargs)

    async def _open_refused(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> aiohttp.ClientResponse:
        self._state.refuses_stream_options = True
        return await self._http.post(CHAT_PATH, self._body(messages, kwargs, usage=False))

    def speculate_with_tools(self, tools: Sequence[Any], **kwargs: Any) -> None:
        """Send now the request ``astream_chat_with_tools(tools, **kwargs)`` would send.

        Call it from the running loop; ``end_turn`` (always, when the turn ends) cancels it
        if the agent did not take it.
        """
        # What ``astream_chat_with_tools`` prepares (its ``_compat`` wrapper calls this very
        # method, as this class takes ``tool_required``), without that wrapper's
        # instrumentation span.
        prepared = self._prepare_chat_with_tools(tools, **kwargs)
        body = self._body(prepared["messages"], prepared)
        self._speculation = (body, asyncio.ensure_future(self._http.post(CHAT_PATH, body)))

    async def end_turn(self) -> bool:
        """The turn is over: cancel a speculative request nobody took, and close every
        upstream response of this turn still open (a stream whose reader was cancelled while
        suspended between chunks is otherwise closed only when garbage collection finds it,
        and the upstream goes on generating). Closing a response already read to its end is a
        no-op: its connection is back in the pool. True if there was a speculation."""
        responses, self._responses = self._responses, []
        for response in responses:
            response.close()
        speculation, self._speculation = self._speculation, None
        if speculation is None:
            return False
        await _cancel(speculation[1])
        return True

    async def astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        """The reply as it streams: a ``ChatResponse`` per text chunk (``message`` = the
        text so far, ``raw`` None), then one with the whole message (text and tool calls),
        ``delta`` "" and ``raw`` = the usage chunk (or ``{}``). Raises ``UpstreamStatus``,
        ``aiohttp.ClientError``, ``TimeoutError`` or ``UpstreamError`` (a cut-off stream)."""
        if instrumentation_active():
            return await self._instrumented_astream_chat(messages, **kwargs)
        return await self._astream_chat(messages, **kwargs)

    async def _astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        response = await self._open(messages, kwargs)
        self._responses.append(response)
        if self.stream_upstream:
            return _streamed(response)
        return _whole(response)

    @llm_chat_callback()
    async def _instrumented_astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        return await self._astream_chat(messages, **kwargs)


async def _cancel(task: asyncio.Task) -> None:
    """Cancel a request task; close the response if it had already opened one."""
    if not task.done():
        task.cancel()
        try:
            await task
        except BaseException:  # noqa: BLE001 - cancelled or failed: either way nothing to read
            return
        return
    if not task.cancelled() and task.exception() is None:
        task.result().close()


async def _streamed(response: aiohttp.ClientResponse) -> AsyncGenerator[ChatResponse, None]:
    reader = StreamReader()
    feed = reader.feed
    complete = False
    try:
        async for batch in line_batches(response):
            for line in batch:
                chunk = feed(line)
                if chunk is not None:
                    yield chunk
                elif reader.done:
                    break
            if reader.done:
                break
        final = reader.final()
        complete = True
    finally:
        if complete:
            await drain(response)
        else:
            # Cancelled (the caller hung up), cut off or failed: drop the connection, so
            # that the upstream stops generating.
            response.close()
    yield final


async def _whole(response: aiohttp.ClientResponse) -> AsyncGenerator[ChatResponse, None]:
    try:
        completion = await response.json(content_type=None)
    finally:
        response.release()
    yield whole_reply(completion)
