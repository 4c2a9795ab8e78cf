"""Every request is a turn of a conversation, logged once, whatever happened to it; staff
read a whole call as one transcript in the admin."""

import json
import time

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client

from conversations.models import Conversation, Turn
from tests.chat import REFERENCE, Chat, logged_turn

pytestmark = pytest.mark.django_db(transaction=True)

CONVERSATIONS = "/admin/conversations/conversation/"


def complete(url: str, key: str, body: dict, *, headers: dict | None = None) -> str:
    """Send a completion request and return its completion id."""
    response = httpx.post(
        f"{url}/v1/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {key}", **(headers or {})},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    if response.headers["content-type"].startswith("application/json"):
        return response.json()["id"]
    first = response.text.split("\n\n")[0].removeprefix("data: ")
    return json.loads(first)["id"]


@pytest.fixture
def staff() -> Client:
    browser = Client()
    browser.force_login(User.objects.create_superuser("staff", "staff@example.com", "pw-for-tests"))
    return browser


def turns_of(chat: Chat, completion_ids: list[str]) -> list[Turn]:
    return [logged_turn(completion_id) for completion_id in completion_ids]


def three_turns(chat: Chat) -> list[str]:
    """Ask three questions in one conversation; the completion ids of the three turns."""
    ids = []
    for question in ("what are your loan options", "what is my credit card balance", "thanks, bye"):
        chat.messages.append({"role": "user", "content": question})
        body = {**chat.body(), "stream": False}
        headers = {"X-Conversation-Id": chat.header_id} if chat.header_id else None
        response = httpx.post(
            f"{chat.url}/v1/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {chat.key}", **(headers or {})},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        chat.messages.append({"role": "assistant", "content": response.json()["choices"][0]["message"]["content"]})
        ids.append(response.json()["id"])
    return ids


def test_three_turns_of_one_vapi_call_are_one_conversation_with_three_turns_in_the_admin(
    live_server_url, trusted_key, demo_bank, staff
):
    ana = Chat(live_server_url, trusted_key, phone=demo_bank["Ana Lopez"]["phone"], call_id="call-3-turns")

    turns = turns_of(ana, three_turns(ana))

    conversation = Conversation.objects.get()
    assert {turn.conversation_id for turn in turns} == {conversation.pk}
    assert [turn.position for turn in turns] == [1, 2, 3]
    assert conversation.turn_count == 3 and conversation.external_id == "call-3-turns"
    assert conversation.channel == Conversation.Channel.VAPI
    assert conversation.customer.full_name == "Ana Lopez"
    assert conversation.prompt_tokens == sum(turn.prompt_tokens for turn in turns)
    listing = staff.get(CONVERSATIONS, {"q": "call-3-turns"}).content.decode()
    assert listing.count(f"{CONVERSATIONS}{conversation.pk}/change/") >= 1
    assert "1 conversation" in listing
    page = staff.get(f"{CONVERSATIONS}{conversation.pk}/change/").content.decode()
    for question in ("what are your loan options", "what is my credit card balance", "thanks, bye"):
        assert page.count(question) >= 1
    assert "Turn 1" in page and "Turn 2" in page and "Turn 3" in page and "Turn 4" not in page
    assert "get_credit_card_summary" in page and "list_loan_products" in page


def test_three_turns_with_one_conversation_header_are_one_conversation_with_three_turns(
    live_server_url, standard_key, demo_bank, staff
):
    web = Chat(live_server_url, standard_key, call_id=None, header_id="web-thread-7")

    turns = turns_of(web, three_turns(web))

    conversation = Conversation.objects.get(external_id="web-thread-7")
    assert {turn.conversation_id for turn in turns} == {conversation.pk}
    assert conversation.turn_count == 3 and conversation.channel == Conversation.Channel.API
    listing = staff.get(CONVERSATIONS, {"q": "web-thread-7"}).content.decode()
    assert f"{CONVERSATIONS}{conversation.pk}/change/" in listing
    page = staff.get(f"{CONVERSATIONS}{conversation.pk}/change/").content.decode()
    assert "Turn 3" in page and "thanks, bye" in page


def test_a_conversation_is_scoped_to_its_api_key_and_unnamed_requests_stand_alone(
    live_server_url, trusted_key, standard_key, demo_bank
):
    question = {"messages": [{"role": "user", "content": "hi"}], "stream": False}
    named = {**question, "call": {"id": "call-shared-id"}}

    ids = [
        complete(live_server_url, trusted_key, named),
        complete(live_server_url, standard_key, named),
        complete(live_server_url, trusted_key, question),
        complete(live_server_url, trusted_key, question),
    ]

    turns = [logged_turn(completion_id) for completion_id in ids]
    assert len({turn.conversation_id for turn in turns}) == 4
    assert Conversation.objects.filter(external_id="call-shared-id").count() == 2


def test_each_turn_is_logged_once_with_transcript_tool_calls_and_timings(live_server_url, trusted_key, demo_bank):
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

    streamed, plain, hello = [logged_turn(completion_id) for completion_id in ids]

    assert Turn.objects.filter(completion_id__in=ids).count() == 3
    assert streamed.conversation_id == plain.conversation_id != hello.conversation_id
    for turn in (streamed, plain):
        assert turn.status == Turn.Status.COMPLETED
        assert turn.channel == Turn.Channel.VAPI
        assert turn.caller_phone == ana["phone"] and turn.caller_asserted
        assert turn.customer.full_name == "Ana Lopez"
        assert (turn.provider, turn.model, turn.answered_by) == ("offline", "fintalk-offline", "offline")
        assert turn.time_to_first_token_ms > 0
        assert turn.duration_ms >= turn.time_to_first_token_ms
        assert turn.completion_tokens > 0 and turn.prompt_tokens > 0
        roles = [(m.role, m.is_answer) for m in turn.messages.all()]
        assert roles == [("system", False), ("user", False), ("assistant", True)]
        assert "1,234.56" in turn.messages.get(is_answer=True).content
        (tool_call,) = turn.tool_calls.all()
        assert tool_call.name == "get_credit_card_summary"
        assert "1,234.56" in tool_call.result
        assert tool_call.duration_ms > 0
        assert turn.replaced == []
    assert streamed.streamed and not plain.streamed
    assert hello.channel == Turn.Channel.API
    assert hello.tool_calls.count() == 0


def test_front_end_endpoints_are_recorded_under_their_own_channels(live_server_url, standard_key, demo_bank):
    auth = {"Authorization": f"Bearer {standard_key}"}
    query = httpx.post(
        f"{live_server_url}/api/agent/query/",
        json={"query": "what loans do you offer", "conversation_id": "portal-1"},
        headers=auth,
        timeout=30,
    )
    stream = httpx.post(
        f"{live_server_url}/api/llm/chat/stream",
        json={"messages": [{"role": "user", "content": "what loans do you offer"}]},
        headers={**auth, "X-Conversation-Id": "portal-2"},
        timeout=30,
    )
    session = httpx.post(
        f"{live_server_url}/api/llm/chat/session/stream",
        json={"session_id": "browser-tab-9", "message": "what loans do you offer"},
        headers=auth,
        timeout=30,
    )
    assert query.status_code == stream.status_code == session.status_code == 200

    assert conversation_named("portal-1").channel == Conversation.Channel.WEB
    assert conversation_named("portal-2").channel == Conversation.Channel.WEB
    assert conversation_named("browser-tab-9").channel == Conversation.Channel.SESSION


def conversation_named(external_id: str, timeout: float = 10.0) -> Conversation:
    """The conversation whose id ends with ``external_id``, once the server's writer has
    stored it (session ids are kept as ``session:<id>``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = Conversation.objects.filter(external_id__endswith=external_id).first()
        if found is not None:
            return found
        time.sleep(0.02)  # polling for the server's writer, not waiting out a race
    raise AssertionError(f"No conversation {external_id}")


def test_an_aborted_stream_records_what_was_sent_and_the_tokens_spent(slow_server_url, trusted_key, demo_bank):
    body = {"messages": [{"role": "user", "content": "What loan options are available?"}], "stream": True}
    received = ""
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
                received += json.loads(line.removeprefix("data: "))["choices"][0]["delta"]["content"]
            if content_chunks == 3:
                break
    # Leaving the block closes the connection mid-answer, like a caller hanging up.

    turn = logged_turn(completion_id)

    assert turn.status == Turn.Status.CANCELLED
    answer = turn.messages.get(is_answer=True).content
    assert answer.startswith(received) and received.startswith("We offer")
    assert "Student Loan Refinance" not in answer
    assert turn.generated_chars >= len(answer)
    assert turn.prompt_tokens > 0 and turn.completion_tokens > 0
    assert turn.duration_ms < 3000


def test_full_card_numbers_never_reach_the_log(live_server_url, trusted_key, demo_bank):
    completion_id = complete(
        live_server_url,
        trusted_key,
        {"messages": [{"role": "user", "content": "is 4111 1111 1111 1111 my card?"}], "stream": False},
    )

    turn = logged_turn(completion_id)

    logged = " ".join(m.content for m in turn.messages.all())
    assert "4111 1111 1111 1111" not in logged
    assert "card ending 1111" in logged


def test_staff_find_a_call_by_call_id_phone_number_in_any_format_or_reference(
    live_server_url, trusted_key, demo_bank, staff
):
    ana_phone = demo_bank["Ana Lopez"]["phone"]  # E.164, e.g. +14155550101
    ana = Chat(live_server_url, trusted_key, phone=ana_phone, call_id="call-find-me")
    ana.say("pay the minimum on my credit card")
    done = ana.say("yes")
    reference = REFERENCE.search(done)[0]
    other = Chat(live_server_url, trusted_key, phone=demo_bank["Ben Carter"]["phone"], call_id="call-other")
    other.say("what are your loan options")
    conversation_named("call-other")
    ana_conversation = conversation_named("call-find-me")
    wait_turns(ana_conversation, 2)
    link = f"{CONVERSATIONS}{ana_conversation.pk}/change/"
    national = f"({ana_phone[2:5]}) {ana_phone[5:8]}-{ana_phone[8:]}"

    for term in ("call-find-me", ana_phone, national, reference):
        listing = staff.get(CONVERSATIONS, {"q": term}).content.decode()
        assert link in listing, term
        assert "call-other" not in listing, term
    listing = staff.get(CONVERSATIONS).content.decode()
    assert ana_phone not in listing  # the list shows numbers masked
    assert f"+1•••{ana_phone[-4:]}" in listing


def wait_turns(conversation: Conversation, count: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conversation.refresh_from_db()
        if conversation.turn_count >= count:
            return
        time.sleep(0.02)  # polling for the server's writer, not waiting out a race
    raise AssertionError(f"{conversation} has {conversation.turn_count} turns, not {count}")


def test_staff_filter_by_channel_status_customer_and_date(live_server_url, trusted_key, standard_key, demo_bank, staff):
    ana = Chat(live_server_url, trusted_key, phone=demo_bank["Ana Lopez"]["phone"], call_id="call-filters")
    ana.say("what are your loan options")
    web = Chat(live_server_url, standard_key, call_id=None, header_id="thread-filters")
    web.say("what are your loan options")
    vapi = conversation_named("call-filters")
    api = conversation_named("thread-filters")

    by_channel = staff.get(CONVERSATIONS, {"channel__exact": "vapi"}).content.decode()
    by_customer = staff.get(CONVERSATIONS, {"customer__id__exact": vapi.customer_id}).content.decode()
    by_status = staff.get(CONVERSATIONS, {"status__exact": "completed"}).content.decode()
    by_error = staff.get(CONVERSATIONS, {"turn_status": "error"}).content.decode()
    midnight = f"{vapi.started_at.date().isoformat()} 00:00:00+00:00"
    today = staff.get(CONVERSATIONS, {"started_at__gte": midnight}).content.decode()

    assert "call-filters" in by_channel and "thread-filters" not in by_channel
    assert "call-filters" in by_customer and "thread-filters" not in by_customer
    assert "call-filters" in by_status and "thread-filters" in by_status
    assert "call-filters" not in by_error
    assert "call-filters" in today and "thread-filters" in today
    assert api.channel == Conversation.Channel.API
