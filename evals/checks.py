"""Comparing what happened in a turn with what the suite expected.

Each check returns human-readable differences (empty when the turn is as expected). Two
checks hold for every turn whatever the suite says: no full card number in the answer,
and no action done without the caller's confirmation in a later turn.
"""

import re
from dataclasses import dataclass, field

from evals.client import Reply
from evals.observe import Observation, ToolUse
from evals.suites import ScriptedTurn, ToolExpectation, TurnExpectation
from fintalk.masking import mask_card_numbers


@dataclass
class TurnResult:
    """One turn's outcome. ``tool_choice`` is None when the turn expects nothing of tools
    (or they could not be read); ``unchecked`` names expectations that could not be read."""

    turn: ScriptedTurn
    reply: Reply
    tools_called: list[ToolUse] | None
    differences: list[str] = field(default_factory=list)
    tool_choice: bool | None = None
    unconfirmed_actions: int = 0
    unchecked: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.differences


def turn_check(
    turn: ScriptedTurn, reply: Reply, observed: Observation, *, budgets: bool = True
) -> TurnResult:
    """Check one answered turn against its expectation (``budgets``: time budgets too)."""
    expect = turn.expect
    result = TurnResult(turn=turn, reply=reply, tools_called=observed.tools)
    differences = result.differences
    if reply.status != 200 or reply.error:
        differences.append(f"the request failed: {reply.error or f'HTTP {reply.status}'}")
        return result
    differences.extend(_text_differences(expect, reply.text))
    if mask_card_numbers(reply.text) != reply.text:
        differences.append("the answer contains a full card number")
    if expect.finish_reason and reply.finish_reason != expect.finish_reason:
        differences.append(
            f"expected finish_reason {expect.finish_reason!r}, got {reply.finish_reason!r}"
        )
    if budgets and expect.first_token_ms is not None:
        if reply.first_token_ms is None:
            differences.append("nothing came back, so no first token within the budget")
        elif reply.first_token_ms > expect.first_token_ms:
            differences.append(
                f"the first token took {reply.first_token_ms:.0f} ms, over the "
                f"{expect.first_token_ms:.0f} ms budget"
            )
    if expect.tools is not None:
        if observed.tools is None:
            result.unchecked.append("tools")
        else:
            difference = _tools_difference(expect.tools, observed.tools)
            result.tool_choice = difference is None
            if difference:
                differences.append(difference)
    changes = observed.action_changes()
    if expect.action is not None:
        if observed.tools is None:
            result.unchecked.append("action")
        else:
            difference = _action_difference(expect.action, changes)
            if difference:
                differences.append(difference)
    unconfirmed = observed.executed_without_confirmation()
    if expect.action != "executed":
        unconfirmed = max(unconfirmed, changes["executed"])
    if unconfirmed:
        result.unconfirmed_actions = unconfirmed
        differences.append(
            f"{unconfirmed} action(s) executed without the caller confirming in a later turn"
        )
    return result


def _normalized(text: str) -> str:
    return " ".join(text.split()).casefold()


def _text_differences(expect: TurnExpectation, text: str) -> list[str]:
    said = _normalized(text)
    differences = [f"expected the answer to say {s!r}" for s in expect.says if _normalized(s) not in said]
    if expect.says_any and not any(_normalized(s) in said for s in expect.says_any):
        differences.append(f"expected the answer to say one of {expect.says_any!r}")
    differences += [f"the answer must not say {s!r}" for s in expect.not_says if _normalized(s) in said]
    differences += [
        f"expected the answer to match /{p}/" for p in expect.matches if not re.search(p, text)
    ]
    differences += [
        f"the answer must not match /{p}/" for p in expect.not_matches if re.search(p, text)
    ]
    if differences:
        differences.append(f"the answer was: {_quoted(text)}")
    return differences


def _quoted(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _same(expected: object, called: object) -> bool:
    """Equal as numbers (250 and 250.0), else as text ignoring case ("Savings", "savings")."""
    try:
        return float(expected) == float(called)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(expected).casefold() == str(called).casefold()


def _arguments_match(expected: dict, called: dict) -> bool:
    return all(name in called and _same(value, called[name]) for name, value in expected.items())


def _describe(name: str, arguments: dict) -> str:
    return f"{name}({', '.join(f'{key}={value}' for key, value in arguments.items())})"


def _tools_difference(expected: list[ToolExpectation], called: list[ToolUse]) -> str | None:
    names_called = {use.name for use in called}
    problems = []
    for tool in expected:
        uses = [use for use in called if use.name == tool.name]
        if not uses:
            problems.append(f"{tool.name} was not called")
        elif not any(_arguments_match(tool.arguments, use.arguments) for use in uses):
            problems.append(
                f"{tool.name} was called without {_describe(tool.name, tool.arguments)}"
            )
    unexpected = sorted(names_called - {tool.name for tool in expected})
    if unexpected:
        problems.append(f"unexpected {', '.join(unexpected)}")
    if not problems:
        return None
    wanted = ", ".join(_describe(t.name, t.arguments) for t in expected) or "no tool"
    got = ", ".join(_describe(use.name, use.arguments) for use in called) or "no tool"
    return f"expected tools {wanted}; called {got} ({'; '.join(problems)})"


def _action_difference(expected: str, changes: dict[str, int]) -> str | None:
    happened = [name for name, count in changes.items() if count]
    if expected == "none":
        return f"expected no action, but this turn made one {' and '.join(happened)}" if happened else None
    if changes.get(expected):
        return None
    return f"expected an action {expected}; this turn {'made one ' + ' and '.join(happened) if happened else 'created or decided none'}"
