"""Talking to Fintalk the way its callers do: one streamed chat completion per turn.

Two transports carry the same requests: ``InProcessTransport`` drives this process's ASGI
application through Django's async test client (the whole pipeline: middleware, DRF,
agent, tools, database, SSE framing; nothing listens on a port), ``HttpTransport`` a
running Fintalk at a URL. Both stream, so the time to the first token is measured the
same way: from sending the request to the first chunk that carries words.
"""

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

import httpx
from django.conf import settings

from agents.caller import conversation_key
from api.request import CONVERSATION_HEADER
from api.serializers import caller_claims
from evals.suites import Caller
from fintalk.ids import new_id

CHAT_PATH = "/api/chat/completions"


@dataclass
class Reply:
    """What the caller got back for one turn.

    ``first_token_ms`` is None when neither words nor a tool call came; ``error`` holds the OpenAI error
    message of a 4xx/5xx reply or of an error event in the stream.
    """

    status: int
    text: str = ""
    completion_id: str = ""
    first_token_ms: float | None = None
    finish_reason: str | None = None
    client_tool_calls: list[dict] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str = ""


class Transport(Protocol):
    async def post_stream(
        self, path: str, body: dict, headers: dict[str, str]
    ) -> tuple[int, AsyncIterator[bytes]]:
        """POST ``body`` as JSON; the status and the response body's chunks as they come."""
        ...

    async def aclose(self) -> None: ...


class HttpTransport:
    """A running Fintalk at ``url`` (e.g. ``http://127.0.0.1:8000``), with an API key."""

    def __init__(self, url: str, *, key: str, timeout: float = 60.0) -> None:
        self._client = httpx.AsyncClient(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {key}"},
            timeout=timeout,
        )

    async def post_stream(self, path, body, headers):
        request = self._client.build_request("POST", path, json=body, headers=headers)
        response = await self._client.send(request, stream=True)

        async def chunks() -> AsyncIterator[bytes]:
            try:
                async for chunk in response.aiter_bytes():
                    yield chunk
            finally:
                await response.aclose()

        return response.status_code, chunks()

    async def aclose(self) -> None:
        await self._client.aclose()


class InProcessTransport:
    """This process's Fintalk, through Django's async test client, with an API key."""

    def __init__(self, *, key: str) -> None:
        from django.test import AsyncClient

        host = next((h.lstrip(".") for h in settings.ALLOWED_HOSTS if h != "*"), "localhost")
        self._client = AsyncClient()
        self._headers = {"Authorization": f"Bearer {key}", "Host": host}

    async def post_stream(self, path, body, headers):
        response = await self._client.post(
            path,
            data=json.dumps(body),
            content_type="application/json",
            headers={**self._headers, **headers},
        )
        if response.streaming:
            return response.status_code, response.streaming_content
        return response.status_code, _once(response.content)

    async def aclose(self) -> None:
        return None


async def _once(content: bytes) -> AsyncIterator[bytes]:
    yield content


@dataclass
class ChatSession:
    """One conversation: the whole history is sent every turn, as Vapi and OpenAI SDKs do.

    The caller's channel decides the request's identity: ``vapi`` sends Vapi's ``call``
    object (``call.customer.number`` = the phone, vouched for when the key is a trusted
    channel's), ``web`` an ``X-Conversation-Id`` header, ``anonymous`` neither.
    """

    transport: Transport
    caller: Caller
    client_tools: tuple[str, ...] = ()
    conversation_id: str = field(default_factory=lambda: new_id("eval-", hex_digits=16))
    messages: list[dict] = field(default_factory=list)

    def _body(self) -> dict:
        body: dict = {
            "messages": self.messages,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if self.caller.channel == "vapi":
            body["call"] = {"id": self.conversation_id, "type": "inboundPhoneCall"}
            if self.caller.phone:
                body["call"]["customer"] = {"number": self.caller.phone}
        if self.client_tools:
            body["tools"] = [
                {"type": "function", "function": {"name": name, "parameters": {"type": "object", "properties": {}}}}
                for name in self.client_tools
            ]
        return body

    def _headers(self) -> dict[str, str]:
        return {CONVERSATION_HEADER: self.conversation_id} if self.caller.channel == "web" else {}

    @property
    def key(self) -> str | None:
        """The server's name for this conversation (``agents.caller.conversation_key``)."""
        header = self._headers().get(CONVERSATION_HEADER, "")
        claims = caller_claims(self._body(), conversation_header=header)
        return conversation_key(claims, asserted_phone=self.caller.phone)

    async def say(self, text: str) -> Reply:
        """Send the caller's words; the reply joins the history as the assistant's message."""
        self.messages.append({"role": "user", "content": text})
        started = time.perf_counter()
        status, chunks = await self.transport.post_stream(CHAT_PATH, self._body(), self._headers())
        reply = await _read_reply(status, chunks, started=started)
        message: dict = {"role": "assistant", "content": reply.text}
        if reply.client_tool_calls:
            message["tool_calls"] = [
                {"id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}
                for call in reply.client_tool_calls
            ]
        self.messages.append(message)
        return reply


async def _read_reply(status: int, chunks: AsyncIterator[bytes], *, started: float) -> Reply:
    reply = Reply(status=status)
    if status != 200:
        body = b"".join([chunk async for chunk in chunks])
        reply.error = _error_message(body) or f"HTTP {status}"
        return reply
    text: list[str] = []
    buffer = b""
    async for chunk in chunks:
        buffer += chunk
        *events, buffer = buffer.split(b"\n\n")
        for event in events:
            if not event.startswith(b"data: {"):
                continue  # keep-alive comments and [DONE]
            data = json.loads(event[6:])
            if "error" in data:
                reply.error = data["error"].get("message", "error event")
            reply.completion_id = data.get("id", reply.completion_id)
            if data.get("usage"):
                reply.prompt_tokens = data["usage"].get("prompt_tokens", 0)
                reply.completion_tokens = data["usage"].get("completion_tokens", 0)
            for choice in data.get("choices", []):
                delta = choice.get("delta") or {}
                if delta.get("content"):
                    if reply.first_token_ms is None:
                        reply.first_token_ms = (time.perf_counter() - started) * 1000
                    text.append(delta["content"])
                for call in delta.get("tool_calls") or []:
                    if reply.first_token_ms is None:  # a tool call is the answer's first token
                        reply.first_token_ms = (time.perf_counter() - started) * 1000
                    reply.client_tool_calls.append(
                        {
                            "id": call.get("id", ""),
                            "name": call.get("function", {}).get("name", ""),
                            "arguments": call.get("function", {}).get("arguments", "{}"),
                        }
                    )
                reply.finish_reason = choice.get("finish_reason") or reply.finish_reason
    reply.text = "".join(text)
    return reply


def _error_message(body: bytes) -> str:
    try:
        return json.loads(body)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return body[:200].decode(errors="replace")
