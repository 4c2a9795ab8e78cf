"""Running scripted conversations against Fintalk and checking every turn.

``conversations_run`` plays each conversation turn by turn through a transport (in-process
or over HTTP), reads what happened on the server after each turn, and checks it. With
``reset`` (in-process, on a database of its own), each conversation starts on a fresh copy
of the demo bank, so conversations never see each other's frozen cards or payments.
"""

import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from evals.checks import TurnResult, turn_check
from evals.client import ChatSession, Transport
from evals.observe import Observation, Observer
from evals.suites import ScriptedConversation


@dataclass
class ConversationResult:
    conversation: ScriptedConversation
    turns: list[TurnResult] = field(default_factory=list)
    seconds: float = 0.0  # wall-clock time of the whole conversation

    @property
    def passed(self) -> bool:
        return len(self.turns) == len(self.conversation.turns) and all(t.passed for t in self.turns)

    def failure(self) -> str:
        """Which turn differed first, and how: '' when the conversation passed."""
        for result in self.turns:
            if not result.passed:
                turn = result.turn
                return f"turn {turn.number} ({turn.user!r}): " + "; ".join(result.differences)
        return ""


@dataclass(frozen=True)
class Target:
    """Where conversations are sent: one transport per conversation, from ``transport``."""

    transport: Callable[[], Transport]
    observer: Observer
    reset: Callable[[], Awaitable[None]] | None = None
    budgets: bool = True


async def conversation_run(conversation: ScriptedConversation, target: Target) -> ConversationResult:
    """Play one conversation; stops at the first turn whose request fails outright."""
    if target.reset is not None:
        await target.reset()
    transport = target.transport()
    session = ChatSession(transport, conversation.caller, conversation.client_tools)
    session.messages.extend(message.model_dump() for message in conversation.history)
    result = ConversationResult(conversation)
    started = time.perf_counter()
    try:
        actions = await target.observer.actions(session.key)
        for turn in conversation.turns:
            reply = await session.say(turn.user)
            tools = await target.observer.tools(reply.completion_id)
            # Actions are the bank's own rows, written during the turn: read them even when
            # the turn's log was not found, or this turn's action would look new next turn.
            after = await target.observer.actions(session.key)
            observed = Observation(tools=tools, actions_before=actions, actions_after=after)
            checked = turn_check(turn, reply, observed, budgets=target.budgets)
            result.turns.append(checked)
            actions = after
            if reply.status != 200:
                break
    finally:
        await transport.aclose()
        result.seconds = time.perf_counter() - started
    return result


async def conversations_run(
    conversations: Iterable[ScriptedConversation],
    target: Target,
    *,
    progress: Callable[[ConversationResult], None] | None = None,
) -> list[ConversationResult]:
    """Play every conversation in order; ``progress`` hears of each one as it ends."""
    results = []
    for conversation in conversations:
        result = await conversation_run(conversation, target)
        results.append(result)
        if progress is not None:
            progress(result)
    return results
