"""Read-backs delivered by Fintalk's code, not by the model.

When an action tool records a pending action (``agents.tools.actions``), it names the
action's read-back on the request's ``CallerContext``. ``answer_turn`` streams it verbatim,
as the last words of the answer, after whatever the model said — so a model that hides
the action, or words it differently, cannot keep the caller from hearing exactly what a
"yes" would do, nor ask a question of its own after it. Once that answer has finished (not
failed, not cancelled by the client), the delivery is recorded on the action, and only the
caller's next message can confirm it (``bank.services.actions``).
"""

import logging

from asgiref.sync import sync_to_async
from django.utils import timezone

from agents import phrases
from agents.caller import CallerContext, ReadBackDue
from agents.events import ReadBack
from bank.services.actions import pending_action_readback_delivered

logger = logging.getLogger(__name__)


def readback_due(caller: CallerContext, *, action_id: int, summary: str, reference: str) -> str:
    """Have the answer end with this action's read-back; returns what the caller will hear.
    A later call in the same answer replaces it (only the latest action is pending)."""
    text = phrases.readback(summary=summary, reference=reference)
    caller.readback = ReadBackDue(action_id=action_id, text=text)
    return text


def readback_withdrawn(caller: CallerContext) -> None:
    """The action was cancelled in this answer: nothing to read back."""
    caller.readback = None


def readback_event(caller: CallerContext, *, said: str) -> ReadBack | None:
    """The read-back to stream after ``said`` (the answer so far), if one is due."""
    due = caller.readback
    if due is None:
        return None
    gap = " " if said and not said[-1].isspace() else ""
    return ReadBack(gap + due.text, due.action_id)


async def readback_delivered(caller: CallerContext, event: ReadBack) -> None:
    """Record that the answer carrying ``event`` finished: the caller's next turn may
    confirm the action. A failure to record it is logged, not raised: the answer is
    complete, and the caller will be read the action again when they say yes."""
    try:
        await sync_to_async(pending_action_readback_delivered)(
            action_id=event.action_id, turn=caller.turn, now=timezone.now()
        )
    except Exception:
        logger.exception("Could not record the read-back of action %s", event.action_id)
