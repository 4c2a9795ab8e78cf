"""Card numbers never leave Fintalk and are never stored, whatever the model writes.

A scripted model (``tests.scripted``) plays a model that writes a whole card number —
in every way of grouping it, cut across stream chunks — in its words, in its tool calls,
and in the error an upstream returns; a client resends history with card numbers in
earlier tool calls and results. The caller, the conversation log, the admin, the model
and the server's own log only ever see "card ending 1486".
"""

import json
import re
from pathlib import Path

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client

from conversations.models import Turn
from tests.agents.providers.fake_openai import Status
from tests.chat import answer_text, logged_turn
from tests.scripted import Step, call

pytestmark = pytest.mark.django_db(transaction=True)

PAN = "4539578763621486"
SHAPES = [
    PAN,
    "4539 5787 6362 1486",
    "4539-5787-6362-1486",
    "4539.5787.6362.1486",
    "4539,5787,6362,1486",
    "4539/5787/6362/1486",
    "4539 - 5787 - 6362 - 1486",
    "four five three nine five seven eight seven six three six two one four eight six",
]
FIRST_TWELVE = PAN[:12]
SPOKEN_START = "four five three nine five seven"


def _leaks(text: str) -> bool:
    """True when ``text`` shows more of the card number than its last four digits."""
    return FIRST_TWELVE in re.sub(r"[\s.,/\-]", "", text) or SPOKEN_START in text.lower()


def _complete(url: str, key: str, body: dict) -> tuple[httpx.Response, str]:
    response = httpx.post(
        f"{url}/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "what's on my card?"}], **body},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    found = re.search(r'"id": ?"(chatcmpl-[0-9a-f]+)"', response.text)
    assert found, response.text
    return response, found[1]


def _stored(conversation: Turn) -> str:
    """Every stored field of a turn's log, as one text."""
    parts = [conversation.error, json.dumps(conversation.provider_failures)]
    parts += [message.content for message in conversation.messages.all()]
    for tool_call in conversation.tool_calls.all():
        parts += [json.dumps(tool_call.arguments), tool_call.result, tool_call.error]
    return "\n".join(parts)


def _admin_page(conversation: Turn) -> str:
    staff = User.objects.filter(username="staff").first() or User.objects.create_superuser(
        "staff", "staff@example.com", "pw-for-tests"
    )
    browser = Client()
    browser.force_login(staff)
    page = browser.get(f"/admin/conversations/conversation/{conversation.conversation_id}/change/")
    assert page.status_code == 200
    return page.content.decode()


@pytest.mark.parametrize("chunk_size", [None, 3, 5])
@pytest.mark.parametrize("shape", SHAPES)
def test_a_card_number_the_model_writes_never_reaches_the_caller_the_log_or_the_admin(
    scripted_server_url, scripted_model, standard_key, shape, chunk_size
):
    scripted_model.then(Step(f"The number on your card is {shape}. Anything else?", chunk_size=chunk_size))

    response, completion_id = _complete(scripted_server_url, standard_key, {"stream": True})

    heard = answer_text(response)
    assert heard == "The number on your card is card ending 1486. Anything else?"
    assert not _leaks(response.text)
    conversation = logged_turn(completion_id)
    assert "card ending 1486" in _stored(conversation)
    assert not _leaks(_stored(conversation))
    assert not _leaks(_admin_page(conversation))


def test_a_json_answer_is_masked_too(scripted_server_url, scripted_model, standard_key):
    scripted_model.then(Step("Your card is 4539.5787.6362.1486.", chunk_size=4))

    response, _ = _complete(scripted_server_url, standard_key, {"stream": False})

    assert response.json()["choices"][0]["message"]["content"] == "Your card is card ending 1486."


def test_card_numbers_in_the_models_tool_calls_are_never_stored_or_shown(
    scripted_server_url, scripted_model, trusted_key, demo_bank
):
    scripted_model.then(
        Step(tool_calls=[call("get_credit_card_summary", card_last4="4539 5787 6362 1486")]),
        Step(tool_calls=[call("lookupCard", number="4539-5787-6362-1486")]),
    )
    body = {
        "stream": True,
        "customer": {"number": demo_bank["Ana Lopez"]["phone"]},
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "lookupCard",
                    "description": "Look a card up in the caller's wallet app.",
                    "parameters": {"type": "object", "properties": {"number": {"type": "string"}}},
                },
            }
        ],
    }

    response, completion_id = _complete(scripted_server_url, trusted_key, body)

    assert not _leaks(response.text), "the client tool's arguments are masked"
    assert "card ending 1486" in response.text
    conversation = logged_turn(completion_id)
    arguments = [tool_call.arguments for tool_call in conversation.tool_calls.order_by("position")]
    assert arguments == [{"card_last4": "card ending 1486"}, {"number": "card ending 1486"}]
    assert not _leaks(_stored(conversation))
    assert not _leaks(_admin_page(conversation))


def test_history_with_card_numbers_reaches_the_model_masked(
    scripted_server_url, scripted_model, standard_key
):
    """Vapi's client tools: earlier tool calls and their results come back in the history."""
    scripted_model.then(Step("Glad to help."))
    history = [
        {"role": "user", "content": "my card is 4539 5787 6362 1486, is it active?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "lookupCard", "arguments": json.dumps({"number": "4539.5787.6362.1486"})},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "Card 4539/5787/6362/1486 is active."},
        {"role": "assistant", "content": "Your card 4539-5787-6362-1486 is active."},
        {"role": "user", "content": "thanks"},
    ]

    _complete(scripted_server_url, standard_key, {"messages": history, "stream": False})

    shown = json.dumps(scripted_model.requests[-1]["messages"])
    assert not _leaks(shown), shown
    assert shown.count("card ending 1486") == 4


def test_the_server_log_never_shows_a_card_number(scripted_server_url, scripted_model, standard_key):
    scripted_model.then(Status(403, message="card 4539 5787 6362 1486 is blocked for this key"))

    response = httpx.post(
        f"{scripted_server_url}/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "hello"}]},
        headers={"Authorization": f"Bearer {standard_key}"},
        timeout=30,
    )

    assert response.status_code >= 400
    assert "card ending 1486" in response.json()["error"]["message"]
    assert not _leaks(response.text)
    port = scripted_server_url.rsplit(":", 1)[1]
    log = (Path(__file__).resolve().parents[2] / f".server-{port}.log").read_text(encoding="utf-8")
    assert "card ending 1486" in log, "the upstream's error was logged"
    assert not _leaks(log)
