"""LLM_FALLBACKS: the next provider answers only when the one before said nothing."""

import pytest

from agents.answering import ANSWERED_BY_APOLOGY, APOLOGY
from agents.providers.offline import OfflineProvider
from agents.providers.websocket import WebSocketProvider
from conversations.models import Turn
from fintalk import errors
from tests.agents.providers.conftest import answer, closed_port_url, openai_provider
from tests.agents.providers.fake_openai import MODEL, CrashAfter, Status

pytestmark = pytest.mark.django_db

OFFLINE = OfflineProvider(model="fintalk-offline", bank_name="Fintalk Bank", word_delay_ms=0)


def test_when_the_primary_is_down_the_next_provider_answers_and_the_log_says_so():
    outcome = answer(openai_provider(closed_port_url()), "hello", fallbacks=[OFFLINE])

    assert outcome.error is None
    assert outcome.text == answer(OFFLINE, "hello").text
    logged = outcome.record
    assert logged.status == Turn.Status.COMPLETED
    assert (logged.facts.provider, logged.answered_by, logged.answered_model) == ("openai", "offline", "fintalk-offline")
    (failure,) = logged.provider_failures
    assert (failure["provider"], failure["model"], failure["status"]) == ("openai", MODEL, 503)
    assert "LLM_API_ENDPOINT" in failure["error"]


def test_every_failure_on_the_way_is_logged_in_order(openai_upstream):
    openai_upstream.app.script.append(Status(401, "bad key"))
    websocket_down = WebSocketProvider(model="ws-model", urls=(closed_port_url("ws"),), max_retries=0)

    outcome = answer(openai_provider(openai_upstream.url), "hello", fallbacks=[websocket_down, OFFLINE])

    assert outcome.error is None and outcome.record.answered_by == "offline"
    assert [(f["provider"], f["status"]) for f in outcome.record.provider_failures] == [
        ("openai", 502),
        ("websocket", 503),
    ]


def test_a_failure_after_the_first_words_ends_the_answer_with_an_error_never_a_second_answer(openai_upstream):
    openai_upstream.app.script.append(CrashAfter("Your balance is"))

    outcome = answer(openai_provider(openai_upstream.url), "what is my balance", fallbacks=[OFFLINE])

    assert outcome.text == "Your balance is"
    assert isinstance(outcome.error, errors.UpstreamError)
    logged = outcome.record
    assert logged.status == Turn.Status.ERROR and logged.answered_by == "openai"
    assert [f["provider"] for f in logged.provider_failures] == ["openai"]
    assert logged.answer == "Your balance is"


def test_when_every_provider_fails_the_caller_hears_a_short_apology():
    websocket_down = WebSocketProvider(model="ws-model", urls=(closed_port_url("ws"),), max_retries=0)

    outcome = answer(openai_provider(closed_port_url()), "hello", fallbacks=[websocket_down])

    assert outcome.error is None
    assert outcome.text == APOLOGY
    assert outcome.answered.reason == "stop"
    logged = outcome.record
    assert logged.answered_by == ANSWERED_BY_APOLOGY and logged.status == Turn.Status.ERROR
    assert len(logged.provider_failures) == 2


def test_without_fallbacks_the_failure_keeps_its_own_status():
    outcome = answer(openai_provider(closed_port_url()), "hello")

    assert isinstance(outcome.error, errors.UpstreamUnavailable) and outcome.error.status == 503
    assert outcome.text == ""


def test_a_request_the_model_cannot_take_is_not_passed_on(openai_upstream):
    openai_upstream.app.script.append(Status(400, "maximum context length exceeded", "context_length_exceeded"))

    outcome = answer(openai_provider(openai_upstream.url), "hello", fallbacks=[OFFLINE])

    assert isinstance(outcome.error, errors.InvalidRequest) and outcome.error.status == 400
    assert outcome.text == ""
