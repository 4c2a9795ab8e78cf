"""The small base of Fintalk's own LlamaIndex LLMs (offline, WebSocket, OpenAI-compatible).

What every home-made function-calling LLM repeats lives here: its metadata from three
fields, the agent's tool-calling request shape, tool calls read from the reply's
``ToolCallBlock``s, and completions as one-message chats through LlamaIndex's own adapters.
A subclass implements ``astream_chat`` (and ``achat``); the synchronous methods of an
async-only model run its async ones on a private event loop.
"""

import asyncio
from collections.abc import Sequence
from typing import Any

from llama_index.core.base.llms.generic_utils import (
    achat_to_completion_decorator,
    astream_chat_to_completion_decorator,
    chat_to_completion_decorator,
    stream_chat_to_completion_decorator,
)
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
    ToolCallBlock,
)
from llama_index.core.bridge.pydantic import Field
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.tools import ToolSelection

# LlamaIndex only uses the window to decide when to drop old history, which Fintalk never
# wants: the upstream itself says when a conversation is too long.
CONTEXT_WINDOW = 1_000_000


def tool_selections(message: ChatMessage) -> list[ToolSelection]:
    """The tool calls of an assistant message, as the agent runs them."""
    return [
        ToolSelection(
            tool_id=block.tool_call_id or "",
            tool_name=block.tool_name,
            tool_kwargs=block.tool_kwargs if isinstance(block.tool_kwargs, dict) else {},
        )
        for block in message.blocks
        if isinstance(block, ToolCallBlock)
    ]


class FintalkLLM(FunctionCallingLLM):
    """A function-calling LLM written for Fintalk; see the module docstring."""

    model: str = Field(description="The model name reported to clients and sent upstream.")
    max_tokens: int = Field(default=1024, description="Output budget, in tokens.")
    offer_tools: bool = Field(default=True, description="Send the agent's tools to the model.")

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(
            context_window=CONTEXT_WINDOW,
            num_output=self.max_tokens,
            is_chat_model=True,
            is_function_calling_model=True,
            model_name=self.model,
        )

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[Any],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: str | dict | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """``{"messages", "tools", "tool_choice", "tool_required", "allow_parallel_tool_calls"}``
        for ``astream_chat``/``achat``; no tools when ``offer_tools`` is off."""
        messages = list(chat_history or [])
        if isinstance(user_msg, str):
            user_msg = ChatMessage(role=MessageRole.USER, content=user_msg)
        if user_msg is not None:
            messages.append(user_msg)
        return {
            "messages": messages,
            "tools": list(tools) if self.offer_tools else [],
            "tool_choice": tool_choice,
            "tool_required": tool_required,
            "allow_parallel_tool_calls": allow_parallel_tool_calls,
            **kwargs,
        }

    def get_tool_calls_from_response(
        self, response: ChatResponse, error_on_no_tool_call: bool = False, **kwargs: Any
    ) -> list[ToolSelection]:
        """The reply's tool calls; ``ValueError`` if there are none and one was required."""
        calls = tool_selections(response.message)
        if error_on_no_tool_call and not calls:
            raise ValueError(f"{self.class_name()} called no tool.")
        return calls

    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """The last response of ``astream_chat``: the whole reply."""
        last = ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=""))
        async for last in await self.astream_chat(messages, **kwargs):
            pass
        return last

    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return asyncio.run(self.achat(messages, **kwargs))

    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        reply = self.chat(messages, **kwargs)

        def whole() -> ChatResponseGen:
            yield reply

        return whole()

    # Completions are one-message chats, through LlamaIndex's own adapters.
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return chat_to_completion_decorator(self.chat)(prompt, **kwargs)

    async def acomplete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return await achat_to_completion_decorator(self.achat)(prompt, **kwargs)

    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        return stream_chat_to_completion_decorator(self.stream_chat)(prompt, **kwargs)

    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        return await astream_chat_to_completion_decorator(self.astream_chat)(prompt, **kwargs)
