"""Fintalk's offline model: a deterministic, rule-based function-calling stand-in.

It is not a language model. It implements LlamaIndex's function-calling LLM interface so
the whole real pipeline (API -> agent -> tools -> database -> SSE) runs with no network and
no credentials: it reads the conversation, picks a tool and its arguments from what the
caller said (``agents.offline.policy``), then speaks the tools' results word by word.
"""

import asyncio
import re
import time
from collections.abc import AsyncGenerator, Generator, Sequence
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    MessageRole,
)
from llama_index.core.bridge.pydantic import Field
from llama_index.core.llms.callbacks import llm_chat_callback

from agents.offline.policy import reply
from agents.providers.llm_base import FintalkLLM

_WORDS = re.compile(r"\s*\S+")


def words(text: str) -> list[str]:
    """Stream units: each word with the whitespace before it."""
    return _WORDS.findall(text)


class OfflineBankingLLM(FintalkLLM):
    model: str = Field(default="fintalk-offline", description="Model name reported to clients.")
    bank_name: str = Field(default="Fintalk Bank")
    word_delay_ms: float = Field(default=0.0, ge=0, description="Pause between streamed words.")

    @classmethod
    def class_name(cls) -> str:
        return "OfflineBankingLLM"

    def _reply(self, messages: Sequence[ChatMessage], kwargs: dict) -> ChatMessage:
        tools = kwargs.get("tools") or []
        choice = kwargs.get("tool_choice")
        return reply(
            messages,
            tools=[tool.metadata for tool in tools],
            bank_name=self.bank_name,
            tool_choice=choice if isinstance(choice, str) else None,
            parallel_tool_calls=kwargs.get("allow_parallel_tool_calls", True) is not False,
        )

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return ChatResponse(message=self._reply(messages, kwargs))

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return ChatResponse(message=self._reply(messages, kwargs))

    def _chunks(self, message: ChatMessage) -> Generator[ChatResponse, None, None]:
        """The reply as stream chunks: a tool call whole, text word by word."""
        if not message.content:
            yield ChatResponse(message=message, delta="")
            return
        text = ""
        for word in words(message.content):
            text += word
            yield ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text), delta=word)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        chunks = self._chunks(self._reply(messages, kwargs))
        delay = self.word_delay_ms / 1000

        def gen() -> Generator[ChatResponse, None, None]:
            for index, chunk in enumerate(chunks):
                if delay and index:
                    time.sleep(delay)
                yield chunk

        return gen()

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        chunks = self._chunks(self._reply(messages, kwargs))
        delay = self.word_delay_ms / 1000

        async def gen() -> AsyncGenerator[ChatResponse, None]:
            for index, chunk in enumerate(chunks):
                if delay and index:
                    await asyncio.sleep(delay)
                yield chunk

        return gen()
