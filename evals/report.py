"""The evaluation's report: per conversation and in total, as a table, JSON and JUnit XML.

Numbers, and what they mean:

- pass rate: conversations (each paraphrase run counts as one) whose every turn passed;
- tool-choice accuracy: of the turns that say which tools to call, the share that called
  exactly those, with the listed arguments;
- unconfirmed actions: actions that moved money or changed a card in a turn that was not
  the caller's confirmation; must be 0;
- time to first token: p50/p95 over every turn that produced words, in milliseconds, from
  sending the request to the first chunk with words;
- tokens: prompt and completion tokens as the server reported them in ``usage``;
- estimated cost: those tokens at ``LLM_PRICE_PROMPT_PER_MILLION`` /
  ``LLM_PRICE_COMPLETION_PER_MILLION`` (US dollars).
"""

import statistics
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from conversations.models import estimated_cost
from evals.runner import ConversationResult


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


@dataclass(frozen=True)
class Totals:
    conversations: int
    passed: int
    turns: int
    turns_passed: int
    tool_turns: int
    tool_turns_correct: int
    unconfirmed_actions: int
    unchecked_turns: int
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    prompt_tokens: int
    completion_tokens: int
    estimated_cost_usd: float

    @property
    def pass_rate(self) -> float:
        return self.passed / self.conversations if self.conversations else 0.0

    @property
    def tool_choice_accuracy(self) -> float | None:
        return self.tool_turns_correct / self.tool_turns if self.tool_turns else None


def totals_of(results: list[ConversationResult]) -> Totals:
    turns = [turn for result in results for turn in result.turns]
    ttfts = [t.reply.first_token_ms for t in turns if t.reply.first_token_ms is not None]
    prompt = sum(t.reply.prompt_tokens for t in turns)
    completion = sum(t.reply.completion_tokens for t in turns)
    return Totals(
        conversations=len(results),
        passed=sum(result.passed for result in results),
        turns=len(turns),
        turns_passed=sum(turn.passed for turn in turns),
        tool_turns=sum(turn.tool_choice is not None for turn in turns),
        tool_turns_correct=sum(turn.tool_choice is True for turn in turns),
        unconfirmed_actions=sum(turn.unconfirmed_actions for turn in turns),
        unchecked_turns=sum(bool(turn.unchecked) for turn in turns),
        ttft_p50_ms=_percentile(ttfts, 0.50),
        ttft_p95_ms=_percentile(ttfts, 0.95),
        prompt_tokens=prompt,
        completion_tokens=completion,
        estimated_cost_usd=estimated_cost(prompt, completion),
    )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def report_table(results: list[ConversationResult], *, target: str) -> str:
    """The readable report: one line per conversation, failures spelled out, totals."""
    rows = [("", "conversation", "turns", "tools", "TTFT p50", "tokens", "cost $")]
    for result in results:
        totals = totals_of([result])
        rows.append(
            (
                "PASS" if result.passed else "FAIL",
                f"{result.conversation.suite}: {result.conversation.title}",
                f"{totals.turns_passed}/{len(result.conversation.turns)}",
                _share(totals.tool_choice_accuracy),
                _ms(totals.ttft_p50_ms),
                str(totals.prompt_tokens + totals.completion_tokens),
                f"{totals.estimated_cost_usd:.5f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) if i < 2 else cell.rjust(width) for i, (cell, width) in enumerate(zip(row, widths))).rstrip()
        for row in rows
    ]
    failures = [r for r in results if not r.passed]
    if failures:
        lines += ["", "Failures:"]
        lines += [f"- {r.conversation.suite}: {r.conversation.title}: {r.failure()}" for r in failures]
    totals = totals_of(results)
    lines += [
        "",
        f"Target: {target}",
        f"Pass rate: {_share(totals.pass_rate)} ({totals.passed}/{totals.conversations} conversations, "
        f"{totals.turns_passed}/{totals.turns} turns)",
        f"Tool-choice accuracy: {_share(totals.tool_choice_accuracy)} "
        f"({totals.tool_turns_correct}/{totals.tool_turns} turns)",
        f"Unconfirmed actions: {totals.unconfirmed_actions} (must be 0)",
        f"Time to first token: p50 {_ms(totals.ttft_p50_ms)} ms, p95 {_ms(totals.ttft_p95_ms)} ms",
        f"Tokens: {totals.prompt_tokens} prompt + {totals.completion_tokens} completion; "
        f"estimated cost ${totals.estimated_cost_usd:.4f}",
    ]
    if totals.unchecked_turns:
        lines.append(
            f"Unchecked: {totals.unchecked_turns} turns expect tools or actions that could not be "
            "read (this command's database is not the server's)."
        )
    return "\n".join(lines)


def report_json(results: list[ConversationResult], *, target: str) -> dict:
    """The whole report as plain JSON-ready data."""
    totals = totals_of(results)
    return {
        "target": target,
        "totals": {
            "conversations": totals.conversations,
            "passed": totals.passed,
            "pass_rate": totals.pass_rate,
            "turns": totals.turns,
            "turns_passed": totals.turns_passed,
            "tool_choice_accuracy": totals.tool_choice_accuracy,
            "tool_turns": totals.tool_turns,
            "unconfirmed_actions": totals.unconfirmed_actions,
            "unchecked_turns": totals.unchecked_turns,
            "ttft_p50_ms": totals.ttft_p50_ms,
            "ttft_p95_ms": totals.ttft_p95_ms,
            "prompt_tokens": totals.prompt_tokens,
            "completion_tokens": totals.completion_tokens,
            "estimated_cost_usd": totals.estimated_cost_usd,
        },
        "conversations": [
            {
                "suite": r.conversation.suite,
                "name": r.conversation.name,
                "variant": r.conversation.variant,
                "passed": r.passed,
                "failure": r.failure(),
                "turns": [
                    {
                        "turn": t.turn.number,
                        "user": t.turn.user,
                        "answer": t.reply.text,
                        "passed": t.passed,
                        "differences": t.differences,
                        "tools_called": None
                        if t.tools_called is None
                        else [{"name": u.name, "arguments": u.arguments} for u in t.tools_called],
                        "tool_choice_correct": t.tool_choice,
                        "unconfirmed_actions": t.unconfirmed_actions,
                        "unchecked": t.unchecked,
                        "first_token_ms": t.reply.first_token_ms,
                        "prompt_tokens": t.reply.prompt_tokens,
                        "completion_tokens": t.reply.completion_tokens,
                        "completion_id": t.reply.completion_id,
                    }
                    for t in r.turns
                ],
            }
            for r in results
        ],
    }


def report_junit(results: list[ConversationResult]) -> bytes:
    """JUnit XML for CI: a testsuite per suite file, a testcase per conversation run."""
    root = ET.Element("testsuites", name="fintalk conversation evals")
    by_suite: dict[str, list[ConversationResult]] = {}
    for result in results:
        by_suite.setdefault(result.conversation.suite, []).append(result)
    for suite, members in by_suite.items():
        element = ET.SubElement(
            root,
            "testsuite",
            name=suite,
            tests=str(len(members)),
            failures=str(sum(not r.passed for r in members)),
        )
        for result in members:
            case = ET.SubElement(
                element,
                "testcase",
                classname=suite,
                name=result.conversation.title,
                time=f"{result.seconds:.3f}",
            )
            if not result.passed:
                failure = ET.SubElement(case, "failure", message=result.failure()[:500])
                failure.text = "\n".join(
                    f"turn {t.turn.number} ({t.turn.user!r}): " + "; ".join(t.differences)
                    for t in result.turns
                    if not t.passed
                )
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
