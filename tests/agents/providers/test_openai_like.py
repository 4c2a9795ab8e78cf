"""LLM_PROVIDER=openai against a real local OpenAI-compatible server (HTTP and HTTPS)."""

import logging

import pytest
from django.core.exceptions import ImproperlyConfigured

from agents.events import ToolFinished, ToolStarted
from agents.providers.openai_like import OpenAICompatibleProvider
from fintalk import errors
from tests.agents.providers.conftest import UPSTREAM_KEY, answer, closed_port_url, openai_provider
from tests.agents.providers.fake_openai import MODEL, CrashAfter, Reply, Silence, Status, ToolCall

pytestmark = pytest.mark.django_db


def test_streams_the_upstream_answer_with_the_upstream_token_usage(openai_upstream):
    openai_upstream.app.script.append(Reply("Our personal loans start at five percent.", 321, 9))

    outcome = answer(openai_provider(openai_upstream.url), "What loans do you offer?")

    assert outcome.error is None
    assert outcome.text == "Our personal loans start at five percent."
    usage = outcome.answered.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.estimated) == (321, 9, False)
    assert outcome.record.usage_estimated is False
    assert outcome.record.answered_by == "openai" and outcome.record.answered_model == MODEL
    headers, request = openai_upstream.app.requests[0]
    assert headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert request["model"] == MODEL and request["stream"] is True
    assert request["stream_options"] == {"include_usage": True}
    assert "list_loan_products" in {tool["function"]["name"] for tool in request["tools"]}


def test_calls_a_bank_tool_then_answers_from_its_result(openai_upstream):
    openai_upstream.app.script.extend([ToolCall("list_loan_products"), Reply("Here are our loans.")])

    outcome = answer(openai_provider(openai_upstream.url), "What loans do you offer?")

    assert outcome.error is None
    assert [type(event) for event in outcome.events[:2]] == [ToolStarted, ToolFinished]
    assert outcome.events[0].name == "list_loan_products"
    assert outcome.text == "Here are our loans."
    _, follow_up = openai_upstream.app.requests[1]
    tool_message = follow_up["messages"][-1]
    assert tool_message["role"] == "tool" and tool_message["tool_call_id"] == "call_scripted"
    # Usage covers both model steps; the tool call step reported none here.
    assert outcome.answered.usage.estimated is False


def test_with_tool_calling_off_no_tools_are_offered(openai_upstream):
    outcome = answer(openai_provider(openai_upstream.url, tool_calling=False), "What loans do you offer?")

    assert outcome.error is None
    _, request = openai_upstream.app.requests[0]
    assert "tools" not in request and "tool_choice" not in request


def test_with_streaming_off_the_whole_reply_is_asked_for_and_sent(openai_upstream):
    openai_upstream.app.script.append(Reply("Your card is frozen.", 50, 5))

    outcome = answer(openai_provider(openai_upstream.url, stream=False), "freeze my card")

    assert outcome.text == "Your card is frozen."
    assert outcome.answered.usage.prompt_tokens == 50
    _, request = openai_upstream.app.requests[0]
    assert not request.get("stream") and "stream_options" not in request


def test_with_streaming_off_tools_are_still_called(openai_upstream):
    openai_upstream.app.script.extend([ToolCall("list_loan_products"), Reply("Here are our loans.")])

    outcome = answer(openai_provider(openai_upstream.url, stream=False), "What loans do you offer?")

    assert [e.name for e in outcome.events if isinstance(e, ToolStarted)] == ["list_loan_products"]
    assert outcome.text == "Here are our loans."


def test_client_sampling_parameters_reach_the_upstream(openai_upstream):
    from agents.providers import GenerationParams

    answer(
        openai_provider(openai_upstream.url, max_tokens=1024),
        "hello",
        params=GenerationParams(temperature=0.3, top_p=0.8, max_tokens=50),
    )

    _, request = openai_upstream.app.requests[0]
    assert (request["temperature"], request["top_p"]) == (0.3, 0.8)
    # The client's small max_tokens limits the visible answer, not the model's tool calls.
    assert request["max_tokens"] == 1024


@pytest.mark.parametrize(
    ("behaviour", "kind", "status", "fix"),
    [
        (Status(401, "Invalid API key"), errors.UpstreamError, 502, "LLM_API_KEY"),
        (Status(404, "The model does not exist", "model_not_found"), errors.UpstreamError, 502, "LLM_MODEL"),
        (Status(429, "Slow down"), errors.UpstreamRateLimited, 429, "Retry in"),
        (Status(503, "Overloaded"), errors.UpstreamUnavailable, 503, "Overloaded"),
        (
            Status(400, "This model's maximum context length is 4096 tokens", "context_length_exceeded"),
            errors.InvalidRequest,
            400,
            "too long",
        ),
    ],
)
def test_upstream_errors_say_what_to_fix(openai_upstream, behaviour, kind, status, fix):
    openai_upstream.app.script.append(behaviour)

    outcome = answer(openai_provider(openai_upstream.url), "hello")

    assert isinstance(outcome.error, kind)
    assert outcome.error.status == status
    assert fix in outcome.error.message
    assert UPSTREAM_KEY not in outcome.error.message


def test_a_refused_connection_is_503_and_names_the_endpoint_setting():
    endpoint = closed_port_url()

    outcome = answer(openai_provider(endpoint), "hello")

    assert isinstance(outcome.error, errors.UpstreamUnavailable)
    assert outcome.error.status == 503
    assert "LLM_API_ENDPOINT" in outcome.error.message and endpoint in outcome.error.message


def test_a_silent_upstream_is_a_504_after_llm_timeout(openai_upstream):
    openai_upstream.app.script.append(Silence())

    outcome = answer(openai_provider(openai_upstream.url, timeout=0.5), "hello")

    assert isinstance(outcome.error, errors.UpstreamTimeout)
    assert outcome.error.status == 504 and "LLM_TIMEOUT=0.5s" in outcome.error.message


def test_a_connection_lost_mid_answer_ends_it_with_an_error_after_the_words_sent(openai_upstream):
    openai_upstream.app.script.append(CrashAfter("Your balance is"))

    outcome = answer(openai_provider(openai_upstream.url), "what is my balance")

    assert outcome.text == "Your balance is"
    assert isinstance(outcome.error, errors.UpstreamError) and outcome.error.status == 502
    assert "broke" in outcome.error.message


def test_https_with_a_self_signed_certificate_fails_clearly_while_verification_is_on(openai_upstream_tls):
    outcome = answer(openai_provider(openai_upstream_tls.url), "hello")

    assert isinstance(outcome.error, errors.UpstreamError) and outcome.error.status == 502
    assert outcome.error.code == "upstream_tls_error"
    assert "LLM_VERIFY_SSL=false" in outcome.error.message
    assert openai_upstream_tls.app.requests == []


def test_https_with_a_self_signed_certificate_works_with_verification_off(openai_upstream_tls):
    openai_upstream_tls.app.script.append(Reply("Hello over TLS."))

    outcome = answer(openai_provider(openai_upstream_tls.url, verify_ssl=False), "hello")

    assert outcome.error is None and outcome.text == "Hello over TLS."


def test_start_up_logs_the_configuration_and_warns_loudly_without_the_key(settings, caplog):
    settings.LLM_API_ENDPOINT = "https://gateway.example.com/xyz-chatbot/v1"
    settings.LLM_API_KEY = "ado-pat-very-secret"
    settings.LLM_VERIFY_SSL = False

    with caplog.at_level(logging.INFO, logger="agents.providers.openai_like"):
        provider = OpenAICompatibleProvider.from_settings(model="XYZ")

    assert (provider.model, provider.url, provider.verify_ssl) == ("XYZ", "https://gateway.example.com/xyz-chatbot/v1", False)
    info, warning = caplog.records
    assert "https://gateway.example.com/xyz-chatbot/v1" in info.getMessage() and "XYZ" in info.getMessage()
    assert "TLS verification OFF" in info.getMessage()
    assert warning.levelno == logging.WARNING and "NOT verified" in warning.getMessage()
    assert "ado-pat-very-secret" not in caplog.text
    assert "ado-pat-very-secret" not in repr(provider)


@pytest.mark.parametrize(
    ("endpoint", "model", "message"),
    [
        ("", "XYZ", "LLM_API_ENDPOINT"),
        ("ftp://gateway.example.com/v1", "XYZ", "LLM_API_ENDPOINT"),
        ("https://gateway.example.com/v1", "", "LLM_MODEL"),
    ],
)
def test_start_up_refuses_an_incomplete_configuration(settings, endpoint, model, message):
    settings.LLM_API_ENDPOINT = endpoint

    with pytest.raises(ImproperlyConfigured, match=message):
        OpenAICompatibleProvider.from_settings(model=model)


def test_the_probe_lists_models_and_checks_the_configured_one(openai_upstream):
    from asgiref.sync import async_to_sync

    async_to_sync(openai_provider(openai_upstream.url).probe)()

    with pytest.raises(errors.UpstreamError, match="LLM_MODEL"):
        async_to_sync(openai_provider(openai_upstream.url, model="gpt-nonexistent").probe)()
