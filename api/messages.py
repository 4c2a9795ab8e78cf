"""OpenAI chat messages -> LlamaIndex chat messages (and the transcript for the log)."""

import json

from llama_index.core.base.llms.types import ChatMessage, MessageRole, TextBlock, ToolCallBlock

from api.request import Message

_ROLES = {
    "system": MessageRole.SYSTEM,
    "developer": MessageRole.SYSTEM,
    "user": MessageRole.USER,
    "assistant": MessageRole.ASSISTANT,
    "tool": MessageRole.TOOL,
}


def _arguments(raw: str) -> dict:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def to_chat_message(message: Message) -> ChatMessage:
    role = _ROLES[message.role]
    content = message.content or ""
    blocks: list = [TextBlock(text=content)] if content else []
    for call in message.tool_calls:
        blocks.append(
            ToolCallBlock(tool_call_id=call.id, tool_name=call.name, tool_kwargs=_arguments(call.arguments))
        )
    extra = {"tool_call_id": message.tool_call_id} if message.tool_call_id else {}
    if message.name:
        extra["name"] = message.name
    return ChatMessage(role=role, blocks=blocks, additional_kwargs=extra)


def transcript_entry(message: Message) -> tuple[str, str]:
    """(role, text) for the conversation log; tool calls written out inline."""
    calls = [f"[calls {call.name}({call.arguments})]" for call in message.tool_calls]
    return message.role, " ".join(part for part in (message.content or "", *calls) if part)
