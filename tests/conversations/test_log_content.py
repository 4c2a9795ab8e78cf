"""Every turn leaves exactly one log row, whatever the model or the caller put in it.

NaN and ±Infinity in tool arguments (SQLite's JSON check and PostgreSQL's jsonb refuse
them), lone surrogates (no UTF-8 for them) and NUL characters (PostgreSQL refuses them in
text) are stored replaced, and the turn says what was replaced. Run with
``DATABASE_URL=postgres://…`` for PostgreSQL.
"""

import json

import httpx
import pytest

from bank.models import PendingAction
from conversations.models import Turn
from conversations.services import REPLACEMENT
from tests.chat import Chat, logged_turns
from tests.scripted import Step, call

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_confirmed_transfer_with_nan_and_infinity_in_tool_arguments_leaves_its_log(
    scripted_server_url, scripted_model, trusted_key, demo_bank
):
    ana = Chat(
        scripted_server_url, trusted_key, phone=demo_bank["Ana Lopez"]["phone"], call_id="call-nan", model=None
    )
    scripted_model.then(
        Step(tool_calls=[call("transfer_between_accounts", amount=300, from_account="checking", to_account="savings")]),
        Step("Shall I move $300.00 from your checking to your savings?"),
        Step(
            tool_calls=[
                call("confirm_pending_action"),
                call("get_account_balances", '{"account_type": NaN, "limit": Infinity, "floor": -Infinity}'),
            ]
        ),
        Step("Done.\u0000 Your $300.00 is in savings \ud800."),
    )

    ana.say("move 300 dollars from checking to savings")
    answer = ana.say("yes")

    assert PendingAction.objects.get().status == "completed"
    assert "Done." in answer
    asked, confirmed = logged_turns("call-nan", 2)
    assert Turn.objects.filter(conversation__external_id="call-nan").count() == 2
    assert asked.status == confirmed.status == Turn.Status.COMPLETED
    calls = {tool.name: tool for tool in confirmed.tool_calls.all()}
    assert PendingAction.objects.get().reference in calls["confirm_pending_action"].result
    assert calls["get_account_balances"].arguments == {
        "account_type": "NaN",
        "limit": "Infinity",
        "floor": "-Infinity",
    }
    assert confirmed.messages.get(is_answer=True).content == f"Done.{REPLACEMENT} Your $300.00 is in savings {REPLACEMENT}."
    replaced = " | ".join(confirmed.replaced)
    assert "NaN stored as the string 'NaN'" in replaced and "Infinity stored as the string" in replaced
    assert "answer: NUL characters replaced" in replaced and "answer: lone surrogates replaced" in replaced


def test_a_lone_surrogate_in_the_callers_words_leaves_one_row_with_it_replaced(live_server_url, trusted_key, demo_bank):
    body = {
        "messages": [{"role": "user", "content": "what are your loan options \ud83d"}],
        "call": {"id": "call-surrogate"},
        "stream": False,
    }
    # JSON's \u escape is how a lone surrogate travels (it has no UTF-8).
    response = httpx.post(
        f"{live_server_url}/v1/chat/completions",
        content=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {trusted_key}", "Content-Type": "application/json"},
        timeout=30,
    )

    assert response.status_code == 200, response.text
    (turn,) = logged_turns("call-surrogate", 1)
    question = turn.messages.get(role="user")
    # Cleaned as the request was read (before it reached the model), logged as cleaned.
    assert question.content == f"what are your loan options {REPLACEMENT}"
    assert turn.status == Turn.Status.COMPLETED
