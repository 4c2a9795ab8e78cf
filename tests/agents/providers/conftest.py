"""Fixtures for the provider tests: scripted upstreams on loopback ports, and a way to
answer one turn in-process through the real pipeline (``answer_turn``)."""

import socket
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from asgiref.sync import async_to_sync
from django.utils import timezone
from llama_index.core.base.llms.types import ChatMessage, MessageRole

from agents.answering import Answered, answer_turn
from agents.caller import CallerContext
from agents.events import TextDelta, TurnEvent
from agents.providers import GenerationParams, LLMProvider
from agents.providers.openai_like import OpenAICompatibleProvider
from agents.runner import Turn
from conversations.recording import TurnFacts, TurnRecord, TurnRecorder
from fintalk import errors
from tests.agents.providers.fake_bedrock import FakeBedrock
from tests.agents.providers.fake_openai import MODEL, FakeOpenAIServer

UPSTREAM_KEY = "sk-upstream-secret-4f1d"


@dataclass
class Outcome:
    """What answering one turn produced: the events, the error it ended with, the log record."""

    events: list[TurnEvent]
    record: TurnRecord
    error: errors.FintalkError | None = None
    answered: Answered | None = None

    @property
    def text(self) -> str:
        return "".join(event.text for event in self.events if isinstance(event, TextDelta))


def answer(
    provider: LLMProvider,
    question: str,
    *,
    fallbacks: Sequence[LLMProvider] = (),
    params: GenerationParams | None = None,
) -> Outcome:
    """Answer ``question`` with ``provider`` (then ``fallbacks``), as every endpoint does,
    folding the events into the turn's log record as the reply would (all of it sent)."""
    recorder = TurnRecorder(
        TurnFacts(
            completion_id=f"chatcmpl-test-{uuid.uuid4().hex}",
            channel="api",
            provider=provider.name,
            model=provider.model,
            streamed=True,
            started_at=timezone.now(),
            started=time.perf_counter(),
            messages=(("user", question),),
        )
    )
    outcome = Outcome(events=[], record=recorder.record)

    async def run() -> None:
        turn = Turn(messages=[ChatMessage(role=MessageRole.USER, content=question)], caller=CallerContext())
        events = answer_turn(
            turn,
            provider=provider,
            params=params or GenerationParams(),
            fallbacks=fallbacks,
        )
        try:
            async for event in events:
                recorder.feed(event)
                if isinstance(event, TextDelta):
                    recorder.sent(event.text)
                outcome.events.append(event)
                if isinstance(event, Answered):
                    outcome.answered = event
        except errors.FintalkError as error:
            outcome.error = error
        recorder.finish(error=outcome.error)

    # async_to_sync runs the tools' database work on this thread.
    async_to_sync(run)()
    return outcome


def openai_provider(endpoint: str, **settings) -> OpenAICompatibleProvider:
    options = {"model": MODEL, "api_key": UPSTREAM_KEY, "timeout": 5.0, "max_retries": 0, **settings}
    return OpenAICompatibleProvider(endpoint=endpoint, **options)


_HELD_PORTS: list[socket.socket] = []


def closed_port_url(scheme: str = "http", path: str = "/v1") -> str:
    """A loopback URL whose port is bound but not listening: connecting is refused at once,
    and no other process (other tests' servers) can take the port meanwhile."""
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    _HELD_PORTS.append(held)
    return f"{scheme}://127.0.0.1:{held.getsockname()[1]}{path}"


@pytest.fixture(scope="session")
def tls_certificate(tmp_path_factory) -> Path:
    """A self-signed (throwaway CA) certificate and key for 127.0.0.1, in one PEM file."""
    authority = trustme.CA()
    path = tmp_path_factory.mktemp("tls") / "upstream.pem"
    authority.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(str(path))
    return path


@pytest.fixture(scope="session")
def _openai_upstream() -> Iterator[FakeOpenAIServer]:
    server = FakeOpenAIServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _openai_upstream_tls(tls_certificate) -> Iterator[FakeOpenAIServer]:
    server = FakeOpenAIServer(certificate=tls_certificate).start()
    yield server
    server.stop()


@pytest.fixture
def openai_upstream(_openai_upstream) -> FakeOpenAIServer:
    """The scripted OpenAI-compatible upstream, over plain HTTP, with an empty script."""
    _openai_upstream.reset()
    return _openai_upstream


@pytest.fixture
def openai_upstream_tls(_openai_upstream_tls) -> FakeOpenAIServer:
    """The scripted upstream over HTTPS with a self-signed certificate."""
    _openai_upstream_tls.reset()
    return _openai_upstream_tls


@pytest.fixture
def bedrock_endpoint(monkeypatch, settings) -> Iterator[FakeBedrock]:
    """A scripted Bedrock Runtime endpoint, and an AWS environment that points boto3 at it."""
    server = FakeBedrock().start()
    for name in ("AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFINTALKTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fintalk-test-secret")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", server.url)
    settings.AWS_REGION = "us-east-1"
    settings.LLM_MAX_RETRIES = 0
    settings.LLM_TIMEOUT = 5.0
    settings.BEDROCK_GUARDRAIL_ID = ""
    settings.BEDROCK_GUARDRAIL_VERSION = ""
    yield server
    server.stop()
