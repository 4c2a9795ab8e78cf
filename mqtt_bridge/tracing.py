"""One trace per MQTT request, when tracing is on (``OTEL_EXPORTER_OTLP_ENDPOINT``).

The request's span (kind CONSUMER, ``messaging.*`` attributes) is what the HTTP server
span is over HTTP: the agent's, model calls' and tools' spans nest under it. A W3C
``traceparent`` (and ``tracestate``) sent as MQTT 5 user properties continues the caller's
trace. With tracing off this is a null context and imports nothing.
"""

import contextlib

import aiomqtt

from fintalk.tracing import tracer_provider, tracing_enabled

SPAN_NAME = "mqtt request"


def request_span(message: aiomqtt.Message) -> contextlib.AbstractContextManager:
    if not tracing_enabled():
        return contextlib.nullcontext()
    from opentelemetry import propagate, trace

    pairs = getattr(message.properties, "UserProperty", None) or []
    carrier = {str(name).lower(): str(value) for name, value in pairs}
    return tracer_provider().get_tracer("fintalk.mqtt").start_as_current_span(
        SPAN_NAME,
        context=propagate.extract(carrier),
        kind=trace.SpanKind.CONSUMER,
        attributes={
            "messaging.system": "mqtt",
            "messaging.operation.type": "process",
            "messaging.destination.name": message.topic.value,
            "messaging.message.body.size": len(message.payload),
        },
    )
