"""Every completion request leaves one conversation log, whatever happened to it."""

import json
import time

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client

from conversations.models import Conversation

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for_conversation(completion_id: str, timeout: float = 10.0) -> Conversation:
    """The log is written just after the reply; poll until it is there (or fail)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conversation = Conversation.objects.filter(completion_id=completion_id).first()
        if conversation is not None:
            return conversation
        time.sleep(0.02)
    raise AssertionError(f"No conversation logged for {completion_id}")


def complete(url: str, key: str, body: dict) -> str:
    """Send a completion request and return its completion id."""
    response = httpx.post(
        f"{url}/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    assert response.status_code == 200, response.text
    if body.get("stream") is False:
        return response.json()["id"]
    first = response.text.split("\n\n")[0].removeprefix("data: ")
    return json.loads(first)["id"]


def test_each_completion_is_logged_once_with_transcript_and_tool_calls(
    live_server_url, trusted_key, demo_bank
):
    ana = demo_bank["Ana Lopez"]
    card_question = {
        "stream": True,
        "messages": [
            {"role": "system", "content": "Be nice."},
            {"role": "user", "content": "what is my credit card balance"},
        ],
        "call": {"id": "call-42", "customer": {"number": ana["phone"]}},
    }
    ids = [
        complete(live_server_url, trusted_key, card_question),
        complete(live_server_url, trusted_key, {**card_question, "stream": False}),
        complete(live_server_url, trusted_key, {"messages": [{"role": "user", "content": "hi"}], "stream": True}),
    ]

    conversations = [wait_for_conversation(completion_id) for completion_id in ids]

    assert Conversation.objects.filter(completion_id__in=ids).count() == 3
    streamed, plain, hello = conversations
    for conversation in (streamed, plain):
        assert conversation.status == Conversation.Status.COMPLETED
        assert conversation.channel == Conversation.Channel.VAPI
        assert conversation.external_call_id == "call-42"
        assert conversation.caller_phone == ana["phone"]
        assert conversation.caller_asserted
        assert conversation.customer.full_name == "Ana Lopez"
        assert conversation.provider == "offline"
        assert conversation.model == "fintalk-offline"
        assert conversation.time_to_first_token_ms > 0
        assert conversation.duration_ms >= conversation.time_to_first_token_ms
        assert conversation.completion_tokens > 0 and conversation.prompt_tokens > 0
        roles = [(m.role, m.is_answer) for m in conversation.messages.all()]
        assert roles == [("system", False), ("user", False), ("assistant", True)]
        answer = conversation.messages.get(is_answer=True).content
        assert "1,234.56" in answer
        (tool_call,) = conversation.tool_calls.all()
        assert tool_call.name == "get_credit_card_summary"
        assert "1,234.56" in tool_call.result
        assert tool_call.duration_ms > 0
    assert streamed.streamed and not plain.streamed
    assert hello.channel == Conversation.Channel.API
    assert hello.tool_calls.count() == 0


def test_an_aborted_stream_is_logged_as_cancelled(slow_server_url, trusted_key, demo_bank):
    body = {"messages": [{"role": "user", "content": "What loan options are available?"}], "stream": True}
    with httpx.stream(
        "POST",
        f"{slow_server_url}/v1/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {trusted_key}"},
        timeout=30,
    ) as response:
        lines = response.iter_lines()
        completion_id = json.loads(next(lines).removeprefix("data: "))["id"]
        content_chunks = 0
        for line in lines:
            if '"content":"' in line:
                content_chunks += 1
            if content_chunks == 3:
                break
    # Leaving the block closes the connection mid-answer, like a caller hanging up.

    conversation = wait_for_conversation(completion_id)

    assert conversation.status == Conversation.Status.CANCELLED
    answer = conversation.messages.get(is_answer=True).content
    assert answer.startswith("We offer")
    assert "Student Loan Refinance" not in answer
    assert conversation.duration_ms < 3000


def test_full_card_numbers_never_reach_the_log(live_server_url, trusted_key, demo_bank):
    completion_id = complete(
        live_server_url,
        trusted_key,
        {"messages": [{"role": "user", "content": "is 4111 1111 1111 1111 my card?"}], "stream": False},
    )

    conversation = wait_for_conversation(completion_id)

    logged = " ".join(m.content for m in conversation.messages.all())
    assert "4111 1111 1111 1111" not in logged
    assert "card ending 1111" in logged


def test_admin_shows_the_transcript_with_tool_calls_inline(live_server_url, trusted_key, demo_bank):
    completion_id = complete(
        live_server_url,
        trusted_key,
        {
            "messages": [{"role": "user", "content": "what are your loan options"}],
            "customer": {"number": demo_bank["Ben Carter"]["phone"]},
        },
    )
    conversation = wait_for_conversation(completion_id)
    staff = User.objects.create_superuser("staff", "staff@example.com", "pw-for-tests")
    browser = Client()
    browser.force_login(staff)

    listing = browser.get("/admin/conversations/conversation/", {"q": demo_bank["Ben Carter"]["phone"]})
    detail = browser.get(f"/admin/conversations/conversation/{conversation.pk}/change/")

    assert listing.status_code == 200
    assert demo_bank["Ben Carter"]["phone"] in listing.content.decode()
    page = detail.content.decode()
    assert detail.status_code == 200
    assert "what are your loan options" in page
    assert "list_loan_products" in page
    assert "Personal Loan" in page
    assert browser.get("/admin/conversations/conversation/add/").status_code == 403
