"""What happened on the server during a turn, read from the database Fintalk writes.

The caller only sees words; which tools ran and what became of an action that moves money
or changes a card are read from the conversation log (by the completion's id) and from the
bank's pending actions. In-process the database is this process's own; against a running
server it is whatever ``DATABASE_URL`` this command runs with: the server's own database
when the command runs beside it (e.g. ``docker compose exec``), otherwise those
expectations cannot be checked and the report says so.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from asgiref.sync import sync_to_async

from bank.models import PendingAction
from conversations.models import Turn

DONE = frozenset(PendingAction.DONE)


@dataclass(frozen=True)
class ToolUse:
    name: str
    arguments: dict


@dataclass(frozen=True)
class Observation:
    """Server-side facts about one turn; ``tools`` is None when the log could not be read."""

    tools: list[ToolUse] | None
    actions_before: dict[int, str]
    actions_after: dict[int, str]

    def action_changes(self) -> dict[str, int]:
        """How many actions this turn created pending, or moved to done/cancelled/refused."""
        changes = {"pending": 0, "executed": 0, "cancelled": 0, "refused": 0, "other": 0}
        for action_id, status in self.actions_after.items():
            before = self.actions_before.get(action_id)
            if status == before:
                continue
            if status == PendingAction.Status.PENDING:
                changes["pending"] += 1
            elif status in DONE:
                changes["executed"] += 1
            elif status in (PendingAction.Status.CANCELLED, PendingAction.Status.REFUSED):
                changes[str(status)] += 1
            else:
                changes["other"] += 1
        return changes

    def executed_without_confirmation(self) -> int:
        """Actions asked for and done within this one turn: nobody confirmed them."""
        return sum(
            1
            for action_id, status in self.actions_after.items()
            if status in DONE and action_id not in self.actions_before
        )


class Observer:
    """Reads the server-side facts of a conversation's turns.

    ``log_timeout`` bounds the wait for a turn's conversation log (the server's
    background writer stores it just after the answer). When ``probe`` is set and the
    first log is never found, the database is not the server's: tools and actions are
    reported as unchecked. ``logs_written``, when given, is awaited before a log is read:
    in-process it waits for this process's writer (``conversations.writer``), so a busy
    machine cannot make a turn's log look missing.
    """

    def __init__(
        self,
        *,
        log_timeout: float = 10.0,
        probe: bool = False,
        logs_written: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.log_timeout = log_timeout
        self.available: bool | None = None if probe else True
        self._logs_written = logs_written

    async def actions(self, conversation_key: str | None) -> dict[int, str]:
        """Status of every action of the conversation, by id."""
        if not self.available or conversation_key is None:
            return {}
        return await sync_to_async(_actions)(conversation_key)

    async def tools(self, completion_id: str) -> list[ToolUse] | None:
        if self.available is False or not completion_id:
            return None
        if self._logs_written is not None:
            await self._logs_written()
        timeout = self.log_timeout if self.available else min(self.log_timeout, 5.0)
        found = await _logged_tools(completion_id, timeout=timeout)
        if self.available is None:
            self.available = found is not None
        return found


def _actions(conversation_key: str) -> dict[int, str]:
    # Conversation keys are made unique per run, so the key alone scopes the actions.
    rows = PendingAction.objects.filter(session__conversation_key=conversation_key)
    return dict(rows.values_list("id", "status"))


async def _logged_tools(completion_id: str, *, timeout: float) -> list[ToolUse] | None:
    deadline = time.monotonic() + timeout
    while True:
        found = await sync_to_async(_tools_of)(completion_id)
        if found is not None or time.monotonic() >= deadline:
            return found
        await asyncio.sleep(0.02)  # the log is written just after the reply's last byte


def _tools_of(completion_id: str) -> list[ToolUse] | None:
    turn = Turn.objects.filter(completion_id=completion_id).first()
    if turn is None:
        return None
    return [ToolUse(call.name, call.arguments) for call in turn.tool_calls.all()]

