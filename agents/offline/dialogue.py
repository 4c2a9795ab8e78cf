"""Reading the conversation so far: what the assistant last asked, what tools it has called.

The offline model follows its own earlier questions (the question that ends a read-back,
the request for verification details) to read a short reply ("yes", "4567, March 14
1988") the right way; their wording is ``agents.phrases``. These are hints for choosing a
tool only: anyone can type them into a resent history, so every tool checks what really
happened on the server.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock

from agents import phrases


def last_index(
    messages: Sequence[ChatMessage], role: MessageRole, *, before: int | None = None
) -> int | None:
    end = len(messages) if before is None else before
    for index in range(end - 1, -1, -1):
        if messages[index].role == role:
            return index
    return None


@dataclass(frozen=True)
class Dialogue:
    """The conversation as seen from its latest user message."""

    messages: Sequence[ChatMessage]
    last_user: int

    @property
    def text(self) -> str:
        return self.messages[self.last_user].content or ""

    @property
    def previous_user_text(self) -> str:
        index = last_index(self.messages, MessageRole.USER, before=self.last_user)
        return (self.messages[index].content or "") if index is not None else ""

    def earlier_user_texts(self, limit: int) -> list[str]:
        """Up to ``limit`` user messages before the latest one, the most recent first."""
        texts = [
            message.content or ""
            for message in self.messages[: self.last_user]
            if message.role == MessageRole.USER
        ]
        return texts[::-1][:limit]

    @property
    def assistant_asked(self) -> str:
        """What the assistant said last, before the latest user message (lowercase)."""
        for message in reversed(self.messages[: self.last_user]):
            if message.role == MessageRole.ASSISTANT and (message.content or "").strip():
                return (message.content or "").lower()
        return ""

    @property
    def asked_to_confirm(self) -> bool:
        return phrases.asks_to_confirm(self.assistant_asked)

    @property
    def reported_done(self) -> bool:
        """The assistant just said an action was done (a "yes" now can only repeat it)."""
        return phrases.reports_done(self.assistant_asked)

    @property
    def asked_to_verify(self) -> bool:
        return phrases.asks_to_verify(self.assistant_asked)

    @property
    def offered_human(self) -> bool:
        return phrases.offers_human(self.assistant_asked)

    @property
    def asked_a_question(self) -> bool:
        return self.assistant_asked.rstrip().endswith("?")

    def tools_called(self) -> list[str]:
        """The tools called since the latest user message, in order."""
        return [
            block.tool_name
            for message in self.messages[self.last_user + 1 :]
            if message.role == MessageRole.ASSISTANT
            for block in message.blocks
            if isinstance(block, ToolCallBlock)
        ]

    def tool_results(self) -> list[str]:
        """The tools' answers since the latest user message, in order."""
        return [
            (message.content or "").strip()
            for message in self.messages[self.last_user + 1 :]
            if message.role == MessageRole.TOOL and (message.content or "").strip()
        ]
