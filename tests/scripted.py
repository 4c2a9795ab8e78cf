"""The scripted model: an attacker's (or any) model behind ``LLM_PROVIDER=openai``.

A real Fintalk server process talks to the scripted OpenAI-compatible upstream of
``tests.agents.providers.fake_openai``; a test writes what the model does at each of its
steps — the words it streams, the tool calls it makes, with any arguments — and talks to
Fintalk as a caller would (``tests.chat.Chat``). Fintalk's tools, checks and database are
all real, so a test asserts what a lying model can and cannot make happen.

    def test_something(scripted_server_url, scripted_model, trusted_key, demo_bank):
        scripted_model.then(
            Step(tool_calls=[call("get_account_balances")]),
            Step("You have plenty of money."),
        )
        chat = Chat(scripted_server_url, trusted_key, phone=..., model=None)  # server's model
        chat.say("hello")

Every upstream request takes the next scripted behaviour (a ``Step``, ``Reply``,
``ToolCall``, ``Status``, ``Silence``, ``CrashAfter`` or ``Respond``); once the script
is empty the model says ``QUIET`` — so a test that forgets a step sees it plainly.
``scripted_model.requests`` holds the requests Fintalk sent (what the model was shown).
The fixtures (``scripted_server_url``, ``scripted_model``) live in ``tests/conftest.py``.
"""

import json

from tests.agents.providers.fake_openai import (
    MODEL,
    CrashAfter,
    FakeOpenAI,
    Reply,
    Respond,
    Silence,
    Status,
    Step,
    ToolCall,
)

QUIET = "(the scripted model has nothing more to say)"
UPSTREAM_KEY = "sk-scripted-upstream"

__all__ = [
    "MODEL",
    "QUIET",
    "CrashAfter",
    "Reply",
    "Respond",
    "ScriptedModel",
    "Silence",
    "Status",
    "Step",
    "ToolCall",
    "call",
    "says_tool_results",
]


def call(name: str, arguments: dict | str | None = None, /, **kwargs) -> ToolCall:
    """A tool call as the model would make it: ``call("verify_identity", card_last4="4567")``,
    or with raw JSON text as arguments (``call("pay_credit_card", '{"amount": NaN}')``)."""
    return ToolCall(name, arguments if arguments is not None else kwargs)


def _latest_tool_results(request: dict) -> list[str]:
    results = []
    for message in reversed(request["messages"]):
        if message["role"] != "tool":
            break
        results.append(message["content"] if isinstance(message["content"], str) else "")
    return results[::-1]


def says_tool_results() -> Respond:
    """A step that says what the tools just answered, as an honest model would (so a test
    hears a refusal's words)."""
    return Respond(lambda request: Reply(" ".join(_latest_tool_results(request)) or QUIET))


class ScriptedModel:
    """What the model will do, step by step, and what Fintalk showed it."""

    def __init__(self, app: FakeOpenAI) -> None:
        self._app = app

    def then(self, *steps) -> "ScriptedModel":
        """Append model steps: each answers one upstream request, in order."""
        self._app.script.extend(steps)
        return self

    @property
    def requests(self) -> list[dict]:
        """The chat requests Fintalk sent upstream, oldest first."""
        return [request for _, request in self._app.requests]

    @property
    def pending(self) -> int:
        """Scripted steps not used (yet)."""
        return len(self._app.script)

    def tool_results(self, request_index: int = -1) -> list[str]:
        """The tool results Fintalk showed the model in one request (default: the latest)."""
        messages = self.requests[request_index]["messages"]
        return [
            m["content"] if isinstance(m["content"], str) else json.dumps(m["content"])
            for m in messages
            if m["role"] == "tool"
        ]
