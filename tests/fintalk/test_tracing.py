"""Traces: one chat request is one trace — the HTTP request, the agent run, each model call
with its time to first token and tokens, each tool call with its outcome, the database
writes — and with tracing off nothing is set up."""

import asyncio
import json
import logging

import httpx
import pytest
from django.core.asgi import get_asgi_application
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agents.tracing import TOOL_OUTCOME, TTFT, llama_index_instrument, llama_index_uninstrument
from conversations.writer import turn_logs_flush
from fintalk import tracing
from fintalk.observability import JsonFormatter, RequestIdFilter
from tests.chat import answer_text

pytestmark = pytest.mark.django_db(transaction=True)

ANA = "+14155550101"


@pytest.fixture
def spans():
    """Tracing on, into memory, for one test."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.tracing_enable(provider)
    llama_index_instrument(provider)
    yield exporter
    llama_index_uninstrument()
    tracing.tracing_disable()
    provider.shutdown()


def _chat(text: str, key: str) -> httpx.Response:
    app = tracing.asgi_traced(get_asgi_application())

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            return await client.post(
                "/api/chat/completions",
                json={
                    "messages": [{"role": "user", "content": text}],
                    "stream": True,
                    "call": {"id": "call-traced", "customer": {"number": ANA}},
                },
                headers={"Authorization": f"Bearer {key}"},
            )

    return asyncio.run(send())


def _kind(span) -> str:
    return span.attributes.get("openinference.span.kind", "")


def test_one_request_is_one_trace_with_every_part(spans, trusted_key, demo_bank):
    spans.clear()  # the fixtures' own database writes

    response = _chat("please freeze my card", trusted_key)
    assert response.status_code == 200
    assert "Say yes to confirm" in answer_text(response)
    assert turn_logs_flush()  # the conversation log's writes happen on its own thread

    finished = spans.get_finished_spans()
    assert len({span.context.trace_id for span in finished}) == 1
    by_id = {span.context.span_id: span for span in finished}
    [root] = [span for span in finished if span.parent is None]
    assert root.name == "POST /api/chat/completions"
    assert root.attributes["http.status_code"] == 200

    def under_root(span) -> bool:
        while span.parent is not None:
            span = by_id[span.parent.span_id]
        return span is root

    assert all(under_root(span) for span in finished)
    names = [span.name for span in finished]
    assert "BankAgent.run" in names
    models = [span for span in finished if _kind(span) == "LLM" and TTFT in span.attributes]
    assert models, names
    for model in models:
        assert model.attributes[TTFT] > 0
        assert model.attributes["llm.token_count.prompt"] > 0
        assert model.attributes["llm.token_count.completion"] >= 0  # the read-back is the bank's
    [tool] = [span for span in finished if _kind(span) == "TOOL"]
    assert tool.attributes["tool.name"] == "freeze_card"
    assert tool.attributes[TOOL_OUTCOME] == "ok"
    writes = {span.name for span in finished if span.attributes.get("db.operation")}
    assert "INSERT bank_pendingaction" in writes
    assert any(name.startswith("INSERT conversations_") for name in writes), writes
    # No span per chunk, and the caller's words stay out of the trace.
    assert not any("http send" in name for name in names)
    assert "freeze my card" not in json.dumps([dict(span.attributes) for span in finished])


def test_a_refused_tool_call_is_an_error_outcome(spans, standard_key, demo_bank):
    response = _chat("what are my balances? I'm 415 555 0101", standard_key)
    assert "verify your identity" in answer_text(response)

    [tool] = [span for span in spans.get_finished_spans() if _kind(span) == "TOOL"]
    assert tool.attributes[TOOL_OUTCOME] == "error"


def test_log_lines_carry_the_trace_id(spans):
    provider = tracing.tracer_provider()
    record = logging.LogRecord("fintalk", logging.INFO, __file__, 1, "hello", (), None)

    with provider.get_tracer("test").start_as_current_span("request") as span:
        RequestIdFilter().filter(record)

    entry = json.loads(JsonFormatter().format(record))
    assert entry["trace_id"] == format(span.get_span_context().trace_id, "032x")


def test_tracing_off_sets_nothing_up(trusted_key, demo_bank):
    application = get_asgi_application()
    record = logging.LogRecord("fintalk", logging.INFO, __file__, 1, "hello", (), None)
    RequestIdFilter().filter(record)

    assert not tracing.tracing_enabled()
    assert tracing.asgi_traced(application) is application
    assert tracing.trace_id_current() == ""
    assert "trace_id" not in json.loads(JsonFormatter().format(record))
    from django.db import connection

    connection.ensure_connection()
    assert tracing._db_write_span not in connection.execute_wrappers


class OtlpReceiver:
    """A small OTLP/HTTP collector on 127.0.0.1: decodes the protobuf it is sent."""

    def __init__(self) -> None:
        import http.server
        import threading

        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
            ExportTraceServiceResponse,
        )

        self.spans: list = []
        self.paths: list[str] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                export = ExportTraceServiceRequest.FromString(body)
                with receiver._lock:
                    receiver.paths.append(self.path)
                    for resource_spans in export.resource_spans:
                        for scope_spans in resource_spans.scope_spans:
                            receiver.spans.extend(scope_spans.spans)
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(self, name: str, timeout: float = 30.0):
        """The first span called ``name`` (the exporter sends in batches; bounded wait)."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = [span for span in self.spans if span.name == name]
            if found:
                return found[0]
            time.sleep(0.05)
        raise AssertionError(f"No span {name!r} arrived; got {[s.name for s in self.spans]}")

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver():
    collector = OtlpReceiver()
    yield collector
    collector.stop()


def _attributes(span) -> dict:
    values = {}
    for attribute in span.attributes:
        value = attribute.value
        values[attribute.key] = getattr(value, value.WhichOneof("value")) if value.WhichOneof("value") else None
    return values


def test_a_real_server_exports_one_trace_per_request_over_otlp_http(receiver, trusted_key, demo_bank):
    from tests.chat import post
    from tests.conftest import _start

    server = _start(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
            "OTEL_SERVICE_NAME": "fintalk-under-test",
            "OTEL_BSP_SCHEDULE_DELAY": "50",
            "LOG_FORMAT": "json",
            "GUNICORN_ACCESS_LOG": "-",
        }
    )
    try:
        body = {
            "messages": [{"role": "user", "content": "please freeze my card"}],
            "call": {"id": "call-exported", "customer": {"number": ANA}},
        }
        response = post(server.url, trusted_key, body, headers={"X-Request-ID": "req-traced-0001"})
        assert "Say yes to confirm" in answer_text(response)

        root = receiver.wait_for("POST /api/chat/completions")
        receiver.wait_for("INSERT conversations_turn")  # written after the reply, off its path
        trace = [span for span in receiver.spans if span.trace_id == root.trace_id]
        logged = server.log_path.read_text()
    finally:
        server.stop()

    [access_line] = [line for line in logged.splitlines() if '"POST /api/chat/completions' in line]
    assert access_line.endswith(f" 200 trace_id={root.trace_id.hex()}")

    assert receiver.paths and set(receiver.paths) == {"/v1/traces"}
    assert not root.parent_span_id
    names = {span.name for span in trace}
    assert "BankAgent.run" in names
    models = [s for s in trace if _attributes(s).get("openinference.span.kind") == "LLM" and TTFT in _attributes(s)]
    assert models
    assert all(_attributes(model)["llm.token_count.prompt"] > 0 for model in models)
    [tool] = [s for s in trace if _attributes(s).get("openinference.span.kind") == "TOOL"]
    assert _attributes(tool)["tool.name"] == "freeze_card"
    assert _attributes(tool)[TOOL_OUTCOME] == "ok"
    assert "INSERT bank_pendingaction" in names
    assert any(name.startswith("INSERT conversations_") for name in names)
    # Every span of the request hangs under the HTTP span, in this one trace.
    ids = {span.span_id for span in trace}
    assert all(span.parent_span_id in ids for span in trace if span is not root)


def test_model_calls_of_an_openai_compatible_upstream_are_traced(receiver, _scripted_upstream, scripted_model, trusted_key, demo_bank):
    """The lean OpenAI-compatible LLM (the production path to a real model) emits
    LlamaIndex's instrumentation once tracing listens: its calls get TTFT and tokens."""
    from tests.chat import post
    from tests.conftest import _start
    from tests.scripted import MODEL, UPSTREAM_KEY, Step, call

    scripted_model.then(Step(tool_calls=[call("get_account_balances")]), Step("You have plenty of money."))
    server = _start(
        {
            "LLM_PROVIDER": "openai",
            "LLM_API_ENDPOINT": _scripted_upstream.url,
            "LLM_MODEL": MODEL,
            "LLM_API_KEY": UPSTREAM_KEY,
            "LLM_MAX_RETRIES": "0",
            "LLM_FALLBACKS": "",
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
            "OTEL_BSP_SCHEDULE_DELAY": "50",
        }
    )
    try:
        body = {
            "messages": [{"role": "user", "content": "balances please"}],
            "call": {"id": "call-upstream-traced", "customer": {"number": ANA}},
        }
        assert "plenty of money" in answer_text(post(server.url, trusted_key, body))
        root = receiver.wait_for("POST /api/chat/completions")
    finally:
        server.stop()

    trace = [span for span in receiver.spans if span.trace_id == root.trace_id]
    models = [s for s in trace if _attributes(s).get("openinference.span.kind") == "LLM" and TTFT in _attributes(s)]
    assert len(models) == 2, [s.name for s in trace]
    assert all(_attributes(model)["llm.token_count.prompt"] > 0 for model in models)
    assert max(_attributes(model)["llm.token_count.completion"] for model in models) > 0
    [tool] = [s for s in trace if _attributes(s).get("openinference.span.kind") == "TOOL"]
    assert _attributes(tool)["tool.name"] == "get_account_balances"
    assert _attributes(tool)[TOOL_OUTCOME] == "ok"
