"""OpenAI chat messages -> LlamaIndex chat messages (and the transcript for the log)."""

import json

from llama_index.core.base.llms.types import ChatMessage, MessageRole, TextBlock, ToolCallBlock

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


def to_chat_message(message: dict) -> ChatMessage:
    role = _ROLES[message["role"]]
    content = message.get("content") or ""
    blocks: list = [TextBlock(text=content)] if content else []
    for call in message.get("tool_calls") or []:
        blocks.append(
            ToolCallBlock(
                tool_call_id=call["id"],
                tool_name=call["function"]["name"],
                tool_kwargs=_arguments(call["function"]["arguments"]),
            )
        )
    extra = {"tool_call_id": message["tool_call_id"]} if message.get("tool_call_id") else {}
    if message.get("name"):
        extra["name"] = message["name"]
    return ChatMessage(role=role, blocks=blocks, additional_kwargs=extra)


def transcript_entry(message: dict) -> tuple[str, str]:
    """(role, text) for the conversation log; tool calls written out inline."""
    text = message.get("content") or ""
    calls = [
        f"[calls {call['function']['name']}({call['function']['arguments']})]"
        for call in message.get("tool_calls") or []
    ]
    return message["role"], " ".join(part for part in (text, *calls) if part)
