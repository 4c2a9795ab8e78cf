"""OpenTelemetry traces, exported over OTLP/HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set.

Unset (the default), nothing is set up: no tracer provider, no instrumentation, no
wrapper around the application; ``trace_id_current`` returns ``""`` after one check.

Set, every request becomes one trace:

- the HTTP server span (``opentelemetry-instrumentation-asgi``; it continues a caller's
  W3C ``traceparent`` and ends when the last byte of a stream is sent; no span per chunk),
- LlamaIndex's own spans through OpenInference: the agent run, its steps, each model call
  (with a "First Token Stream Event", ``fintalk.llm.time_to_first_token_ms`` and token
  counts) and each tool call (with ``fintalk.tool.outcome``) — see ``agents.tracing``,
- one span per database write (INSERT, UPDATE, DELETE), statement without its values.

The trace id is stamped on log lines (``trace_id`` in JSON logs), appended to the access
line of the request (``trace_id=…``, beside the status that carried ``X-Request-ID``) and
kept on the conversation log, so a trace leads to the admin and back.
"""

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db.backends.signals import connection_created

_state: dict = {"provider": None, "tracer": None}

_WRITE = re.compile(r"^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+[\"`]?([\w.]+)", re.IGNORECASE)


def tracing_enabled() -> bool:
    return _state["provider"] is not None


def tracing_setup() -> bool:
    """Set up tracing from the environment, once per process; True when it is on.

    The exporter reads the standard variables (``OTEL_EXPORTER_OTLP_ENDPOINT``,
    ``OTEL_EXPORTER_OTLP_HEADERS``, ``OTEL_EXPORTER_OTLP_TIMEOUT``, ``OTEL_BSP_*``...).
    """
    if not settings.OTEL_EXPORTER_OTLP_ENDPOINT or tracing_enabled():
        return tracing_enabled()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": settings.OTEL_SERVICE_NAME}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    tracing_enable(provider)
    return True


def tracing_enable(provider) -> None:
    """Trace with ``provider`` (an SDK ``TracerProvider``); tests pass one with an
    in-memory exporter. ``agents.tracing`` adds LlamaIndex's spans on the same provider."""
    _state["provider"] = provider
    _state["tracer"] = provider.get_tracer("fintalk")
    connection_created.connect(_trace_writes_of, dispatch_uid="fintalk.tracing")
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        _trace_writes_of(connection=connection)


def tracing_disable() -> None:
    """Stop tracing (tests): new requests and connections are no longer traced."""
    connection_created.disconnect(dispatch_uid="fintalk.tracing")
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if _db_write_span in connection.execute_wrappers:
            connection.execute_wrappers.remove(_db_write_span)
    _state["provider"] = _state["tracer"] = None


def tracer_provider():
    """The SDK tracer provider in use, or None when tracing is off."""
    return _state["provider"]


def asgi_traced(application: Callable) -> Callable:
    """``application`` wrapped in the HTTP server span when tracing is on; else itself."""
    if not tracing_enabled():
        return application
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    return OpenTelemetryMiddleware(
        application,
        tracer_provider=_state["provider"],
        exclude_spans=["receive", "send"],  # no span per SSE chunk
        excluded_urls="healthz,readyz,metrics",
    )


class AccessLineTraceId(logging.Filter):
    """Appends ``trace_id=<id>`` to the server's access line (uvicorn's ``uvicorn.access``,
    which gunicorn's access log shows), written while the request's span is current."""

    def filter(self, record: logging.LogRecord) -> bool:
        trace_id = trace_id_current()
        if trace_id and isinstance(record.args, tuple):
            record.msg = f"{record.msg} trace_id=%s"
            record.args = (*record.args, trace_id)
        return True


def access_line_traced() -> None:
    """Put the trace id on every access line from now on (when tracing is on)."""
    access = logging.getLogger("uvicorn.access")
    if tracing_enabled() and not any(isinstance(f, AccessLineTraceId) for f in access.filters):
        access.addFilter(AccessLineTraceId())


def trace_id_current() -> str:
    """The current trace's id (32 hex digits), or "" when tracing is off or there is none."""
    if _state["provider"] is None:
        return ""
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""


def trace_context_current() -> object | None:
    """The current OpenTelemetry context, to continue this trace on another thread (the
    conversation-log writer), or None when tracing is off."""
    if _state["provider"] is None:
        return None
    from opentelemetry import context

    return context.get_current()


@contextmanager
def trace_context_attached(context_: object | None) -> Iterator[None]:
    """Run the block in ``context_`` (from ``trace_context_current``; None: as it is)."""
    if context_ is None:
        yield
        return
    from opentelemetry import context

    token = context.attach(context_)
    try:
        yield
    finally:
        context.detach(token)


def _trace_writes_of(sender=None, connection=None, **kwargs) -> None:
    if _db_write_span not in connection.execute_wrappers:
        connection.execute_wrappers.append(_db_write_span)


def _db_write_span(execute, sql, params, many, context):
    """A span around each INSERT/UPDATE/DELETE; reads pass straight through."""
    tracer = _state["tracer"]
    match = _WRITE.match(sql) if tracer is not None else None
    if match is None:
        return execute(sql, params, many, context)
    operation = match.group(1).split()[0].upper()
    table = match.group(2)
    connection = context["connection"]
    with tracer.start_as_current_span(
        f"{operation} {table}",
        kind=_client_kind(),
        attributes={
            "db.system": connection.vendor,
            "db.operation": operation,
            "db.sql.table": table,
            "db.statement": sql,  # placeholders only: values never reach the trace
            "db.executemany": bool(many),
        },
    ):
        return execute(sql, params, many, context)


def _client_kind():
    from opentelemetry.trace import SpanKind

    return SpanKind.CLIENT
