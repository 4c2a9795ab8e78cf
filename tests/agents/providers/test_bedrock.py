"""LLM_PROVIDER=bedrock: the real boto3 client and ``BedrockConverse`` against a local
endpoint that answers ConverseStream with real event-stream frames."""

import pytest
from asgiref.sync import async_to_sync
from django.core.exceptions import ImproperlyConfigured

from agents.events import TextDelta, ToolStarted
from agents.providers import GenerationParams
from agents.providers.bedrock import DEFAULT_MODEL, BedrockProvider
from fintalk import errors
from tests.agents.providers.conftest import answer, closed_port_url
from tests.agents.providers.fake_bedrock import (
    Error,
    Silence,
    Stream,
    stream_exception,
    text_turn,
    tool_turn,
)

pytestmark = pytest.mark.django_db


def test_streams_a_tool_using_answer_with_no_thinking_text_in_any_chunk(bedrock_endpoint):
    bedrock_endpoint.script.extend(
        [
            Stream(
                tool_turn(
                    "<thin", "king>The caller asks about loans; I should list", " them.</thi", "nking>",
                    tool="list_loan_products",
                    arguments={},
                )
            ),
            Stream(text_turn("<thinking>Now answer.</", "thinking>\n", "We offer personal ", "and auto loans.")),
        ]
    )

    outcome = answer(BedrockProvider.from_settings(), "What loans do you offer?")

    assert outcome.error is None
    chunks = [event.text for event in outcome.events if isinstance(event, TextDelta)]
    assert "".join(chunks) == "We offer personal and auto loans."
    assert not any("thinking" in chunk or "<" in chunk for chunk in chunks)
    assert any(isinstance(e, ToolStarted) and e.name == "list_loan_products" for e in outcome.events)
    usage = outcome.answered.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.estimated) == (800 + 900, 60 + 40, False)
    assert outcome.record.answered_by == "bedrock" and outcome.record.answered_model == DEFAULT_MODEL


def test_applies_aws_tool_use_guidance_for_nova(bedrock_endpoint):
    bedrock_endpoint.script.extend(
        [Stream(tool_turn("<thinking>x</thinking>", tool="list_loan_products", arguments={})), Stream(text_turn("Done."))]
    )

    answer(BedrockProvider.from_settings(), "loans?", params=GenerationParams(temperature=0.9, max_tokens=40))

    first, follow_up = (recorded.body for recorded in bedrock_endpoint.requests)
    assert bedrock_endpoint.requests[0].path == "/model/amazon.nova-lite-v1%3A0/converse-stream"
    # Greedy decoding whatever the client asked, and room for the reasoning and the tool call.
    assert first["inferenceConfig"] == {"maxTokens": 2048, "temperature": 0.0}
    assert first["additionalModelRequestFields"] == {"inferenceConfig": {"topK": 1}}
    # The bank's instructions travel in the system role, not as a user turn.
    assert "assistant" in first["system"][0]["text"]
    assert [message["role"] for message in first["messages"]] == ["user"]
    assert "list_loan_products" in {tool["toolSpec"]["name"] for tool in first["toolConfig"]["tools"]}
    tool_result = follow_up["messages"][-1]["content"][0]["toolResult"]
    assert tool_result["toolUseId"] == "tooluse_kN3x9"


def test_a_configured_guardrail_is_applied(bedrock_endpoint, settings):
    settings.BEDROCK_GUARDRAIL_ID = "gr-banking"
    settings.BEDROCK_GUARDRAIL_VERSION = "3"

    answer(BedrockProvider.from_settings(), "hello")

    assert bedrock_endpoint.requests[0].body["guardrailConfig"] == {
        "guardrailIdentifier": "gr-banking",
        "guardrailVersion": "3",
    }


@pytest.mark.parametrize(
    ("failure", "kind", "status", "fix"),
    [
        (Error(429, "ThrottlingException", "Too many requests"), errors.UpstreamRateLimited, 429, "Service Quotas"),
        (
            Error(403, "AccessDeniedException", "You don't have access to the model"),
            errors.UpstreamError,
            502,
            "Enable access to the model",
        ),
        (Error(400, "ValidationException", "Malformed input request"), errors.UpstreamError, 502, "Check LLM_MODEL"),
        (
            Error(400, "ValidationException", "Input is too long for requested model."),
            errors.InvalidRequest,
            400,
            "too long",
        ),
        (Error(404, "ResourceNotFoundException", "Model not found"), errors.UpstreamError, 502, "Check LLM_MODEL"),
        (Error(429, "ModelNotReadyException", "Model is not ready"), errors.UpstreamUnavailable, 503, "Retry"),
        (Error(503, "ServiceUnavailableException", "Unavailable"), errors.UpstreamUnavailable, 503, "Retry"),
        (Error(408, "ModelTimeoutException", "Model timed out"), errors.UpstreamTimeout, 504, "timed out"),
        (Error(403, "UnrecognizedClientException", "Bad token"), errors.UpstreamError, 502, "credentials"),
    ],
)
def test_bedrock_errors_map_to_the_right_status_and_say_what_to_fix(bedrock_endpoint, failure, kind, status, fix):
    bedrock_endpoint.script.append(failure)

    outcome = answer(BedrockProvider.from_settings(), "hello")

    assert isinstance(outcome.error, kind), outcome.error
    assert outcome.error.status == status
    assert fix in outcome.error.message
    if kind is errors.UpstreamRateLimited:
        assert outcome.error.retry_after > 0


def test_an_error_inside_the_stream_ends_the_answer_after_the_words_sent(bedrock_endpoint):
    frames = text_turn("Your balance ", "is")[:3]
    bedrock_endpoint.script.append(Stream([*frames, stream_exception("modelStreamErrorException", "Model crashed")]))

    outcome = answer(BedrockProvider.from_settings(), "balance?")

    assert outcome.text == "Your balance is"
    assert isinstance(outcome.error, errors.UpstreamError) and outcome.error.status == 502
    assert "ModelStreamErrorException" in outcome.error.message


def test_a_silent_endpoint_is_a_504_after_llm_timeout(bedrock_endpoint, settings):
    settings.LLM_TIMEOUT = 0.5
    bedrock_endpoint.script.append(Silence())

    outcome = answer(BedrockProvider.from_settings(), "hello")

    assert isinstance(outcome.error, errors.UpstreamTimeout) and "LLM_TIMEOUT=0.5s" in outcome.error.message


def test_an_unreachable_endpoint_is_a_503(bedrock_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", closed_port_url(path=""))

    outcome = answer(BedrockProvider.from_settings(), "hello")

    assert isinstance(outcome.error, errors.UpstreamUnavailable) and "AWS_REGION" in outcome.error.message


def test_missing_credentials_are_named_not_hidden(bedrock_endpoint, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    outcome = answer(BedrockProvider.from_settings(), "hello")

    assert isinstance(outcome.error, errors.UpstreamError) and "No AWS credentials" in outcome.error.message
    assert bedrock_endpoint.requests == []


def test_the_probe_is_a_one_token_converse_call(bedrock_endpoint):
    async_to_sync(BedrockProvider.from_settings().probe)()

    (probe,) = bedrock_endpoint.requests
    assert probe.path.endswith("/converse") and probe.body["inferenceConfig"] == {"maxTokens": 1}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"AWS_REGION": ""}, "AWS_REGION"),
        ({"BEDROCK_GUARDRAIL_ID": "gr-1"}, "BEDROCK_GUARDRAIL_VERSION"),
    ],
)
def test_start_up_refuses_an_incomplete_configuration(bedrock_endpoint, settings, changes, message):
    for name, value in changes.items():
        setattr(settings, name, value)

    with pytest.raises(ImproperlyConfigured, match=message):
        BedrockProvider.from_settings()


def test_start_up_refuses_a_model_that_cannot_call_tools(bedrock_endpoint):
    with pytest.raises(ImproperlyConfigured, match="LLM_MODEL"):
        BedrockProvider.from_settings(model="amazon.titan-text-lite-v1")
