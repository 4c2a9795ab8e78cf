"""Talking to a live server the way Vapi and OpenAI clients do: the whole history, every turn."""

import json
import re
import time
import uuid
from dataclasses import dataclass, field

import httpx

from conversations.models import Turn

# 13 to 19 digits, grouped or not: anything that could be a whole card number.
FULL_CARD_NUMBER = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
REFERENCE = re.compile(r"\bFT-[A-Z2-9]{8}\b")


def post(url: str, key: str, body: dict, *, headers: dict | None = None) -> httpx.Response:
    return httpx.post(
        f"{url}/api/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {key}", "Accept": "application/json", **(headers or {})},
        timeout=30,
    )


def answer_text(response: httpx.Response) -> str:
    """The assistant's words from an SSE or a JSON reply."""
    assert response.status_code == 200, response.text
    if response.headers["content-type"].startswith("application/json"):
        return response.json()["choices"][0]["message"]["content"] or ""
    text = ""
    for event in response.text.split("\n\n"):
        if event.startswith("data: {"):
            chunk = json.loads(event.removeprefix("data: "))
            for choice in chunk["choices"]:
                text += choice["delta"].get("content") or ""
    return text


def logged_turn(completion_id: str, timeout: float = 10.0) -> Turn:
    """The turn's log, which the server's background writer stores just after the reply:
    poll until it is there (or fail)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if turn := Turn.objects.filter(completion_id=completion_id).first():
            return turn
        time.sleep(0.02)  # polling for another process's write, not waiting out a race
    raise AssertionError(f"No turn logged for {completion_id}")


def logged_turns(conversation_id: str, count: int, timeout: float = 10.0) -> list[Turn]:
    """The turns of the conversation the client named ``conversation_id`` (a call id,
    X-Conversation-Id…), oldest first, once the server has stored ``count`` of them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        turns = list(Turn.objects.filter(conversation__external_id=conversation_id).order_by("position"))
        if len(turns) >= count:
            return turns
        time.sleep(0.02)  # polling for another process's write, not waiting out a race
    raise AssertionError(f"{conversation_id} has fewer than {count} turns logged")


@dataclass
class Chat:
    """One conversation. ``phone`` rides in Vapi's ``call.customer.number``; the server
    trusts it only from a trusted key. The conversation is named by Vapi's ``call.id``
    unless ``header_id`` or ``user`` name it instead (or ``call_id=None`` and neither: none).
    ``extra`` fields are added to every request's body. ``model=None`` asks for the
    server's own model (a scripted-model server has no "fintalk-offline").
    """

    url: str
    key: str
    phone: str | None = None
    call_id: str | None = field(default_factory=lambda: f"call-{uuid.uuid4().hex[:12]}")
    header_id: str | None = None
    user: str | None = None
    extra: dict = field(default_factory=dict)
    messages: list[dict] = field(default_factory=list)
    model: str | None = "fintalk-offline"

    def body(self) -> dict:
        body: dict = {"messages": self.messages, "stream": True}
        if self.model:
            body["model"] = self.model
        if self.call_id:
            body["call"] = {"id": self.call_id, "type": "inboundPhoneCall"}
            if self.phone:
                body["call"]["customer"] = {"number": self.phone}
        elif self.phone:
            body["customer"] = {"number": self.phone}
        if self.user:
            body["user"] = self.user
        return {**body, **self.extra}

    def send(self) -> str:
        headers = {"X-Conversation-Id": self.header_id} if self.header_id else None
        text = answer_text(post(self.url, self.key, self.body(), headers=headers))
        self.messages.append({"role": "assistant", "content": text})
        return text

    def say(self, text: str) -> str:
        self.messages.append({"role": "user", "content": text})
        return self.send()
