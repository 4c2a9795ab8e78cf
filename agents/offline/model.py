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
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
    ToolCallBlock,
)
from llama_index.core.base.llms.generic_utils import (
    achat_to_completion_decorator,
    astream_chat_to_completion_decorator,
    chat_to_completion_decorator,
    stream_chat_to_completion_decorator,
)
from llama_index.core.bridge.pydantic import Field
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.tools import ToolSelection

from agents.offline.policy import reply

_WORDS = re.compile(r"\s*\S+")


def words(text: str) -> list[str]:
    """Stream units: each word with the whitespace before it."""
    return _WORDS.findall(text)


class OfflineBankingLLM(FunctionCallingLLM):
    model: str = Field(default="fintalk-offline", description="Model name reported to clients.")
    bank_name: str = Field(default="Fintalk Bank")
    word_delay_ms: float = Field(default=0.0, ge=0, description="Pause between streamed words.")

    @classmethod
    def class_name(cls) -> str:
        return "OfflineBankingLLM"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(
            context_window=131072,
            num_output=1024,
            is_chat_model=True,
            is_function_calling_model=True,
            model_name=self.model,
        )

    def _reply(self, messages: Sequence[ChatMessage], kwargs: dict) -> ChatMessage:
        tools = kwargs.get("tools") or []
        return reply(
            messages,
            tools=[tool.metadata for tool in tools],
            bank_name=self.bank_name,
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

    # Completions are one-message chats, through LlamaIndex's own adapters.
    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return chat_to_completion_decorator(self.chat)(prompt, **kwargs)

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        return await achat_to_completion_decorator(self.achat)(prompt, **kwargs)

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        return stream_chat_to_completion_decorator(self.stream_chat)(prompt, **kwargs)

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        return await astream_chat_to_completion_decorator(self.astream_chat)(prompt, **kwargs)

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[Any],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        **kwargs: Any,
    ) -> dict:
        messages = list(chat_history or [])
        if user_msg:
            if isinstance(user_msg, str):
                user_msg = ChatMessage(role=MessageRole.USER, content=user_msg)
            messages.append(user_msg)
        return {"messages": messages, "tools": tools, **kwargs}

    def get_tool_calls_from_response(
        self, response: ChatResponse, error_on_no_tool_call: bool = False, **kwargs: Any
    ) -> list[ToolSelection]:
        calls = [
            ToolSelection(
                tool_id=block.tool_call_id or "",
                tool_name=block.tool_name,
                tool_kwargs=block.tool_kwargs if isinstance(block.tool_kwargs, dict) else {},
            )
            for block in response.message.blocks
            if isinstance(block, ToolCallBlock)
        ]
        if error_on_no_tool_call and not calls:
            raise ValueError("The offline model chose no tool.")
        return calls
