"""The offline model's turn: answer from tool results, call a tool, or make small talk."""

import uuid
from collections.abc import Sequence

from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.tools import ToolMetadata

from agents import language
from agents.client_tools import ClientToolMetadata
from agents.offline.intents import detect

_CAPABILITIES = "your account balances, your credit cards, and our loan options"


def _last_user_index(messages: Sequence[ChatMessage]) -> int | None:
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].role == MessageRole.USER:
            return index
    return None


def _tool_results_since(messages: Sequence[ChatMessage], start: int) -> list[str]:
    return [
        (message.content or "").strip()
        for message in messages[start:]
        if message.role == MessageRole.TOOL and (message.content or "").strip()
    ]


def _client_tool_calls(text: str, tools: Sequence[ToolMetadata]) -> list[str]:
    """Client-defined tools (e.g. Vapi's transferCall) the caller asks for by name."""
    return [
        tool.get_name()
        for tool in tools
        if isinstance(tool, ClientToolMetadata) and language.mentions(text, tool.spoken_name)
    ]


def _small_talk(text: str, bank_name: str) -> str:
    if language.mentions(text, "thank you", "thanks", "thank", "cheers", "appreciate"):
        return "You're welcome. Is there anything else I can help you with?"
    if language.mentions(text, "bye", "goodbye", "that's all", "that is all", "nothing else"):
        return f"Thank you for banking with {bank_name}. Goodbye!"
    if language.mentions(text, "hello", "hi", "hey", "good morning", "good afternoon", "good evening"):
        return (
            f"Hello! I'm the {bank_name} virtual assistant. I can help with {_CAPABILITIES}. "
            "What would you like to do?"
        )
    return (
        f"Sorry, I didn't catch that. I can help with {_CAPABILITIES}. "
        "What would you like to know?"
    )


def _tool_call(name: str, arguments: dict) -> ToolCallBlock:
    return ToolCallBlock(tool_call_id=f"call_{uuid.uuid4().hex[:24]}", tool_name=name, tool_kwargs=arguments)


def reply(messages: Sequence[ChatMessage], *, tools: Sequence[ToolMetadata], bank_name: str) -> ChatMessage:
    """The assistant's next message for this conversation."""
    last_user = _last_user_index(messages)
    if last_user is None:
        return ChatMessage(role=MessageRole.ASSISTANT, content=_small_talk("", bank_name))

    results = _tool_results_since(messages, last_user + 1)
    if results:
        return ChatMessage(role=MessageRole.ASSISTANT, content=" ".join(results))

    text = messages[last_user].content or ""
    available = {tool.get_name() for tool in tools}
    calls = detect(text, available=available)
    if not calls:
        previous = _last_user_index(messages[:last_user])
        if previous is not None and language.parse_card_last4(text):
            # "the one ending 2222" continues the question asked the turn before.
            calls = detect(f"{messages[previous].content or ''} {text}", available=available)
    client_calls = _client_tool_calls(text, tools)
    if client_calls:
        blocks = [_tool_call(name, {}) for name in client_calls]
    else:
        blocks = [_tool_call(name, arguments) for name, arguments in calls]
    if blocks:
        return ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks)
    return ChatMessage(role=MessageRole.ASSISTANT, content=_small_talk(text, bank_name))
