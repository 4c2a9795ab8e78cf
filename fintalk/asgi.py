"""The ASGI application: Django for HTTP (its handler without threads for requests that
touch no database, ``fintalk.handler``); WebSocket handshakes refused with a JSON 404; the
server's lifespan.

Django serves HTTP only: handed a WebSocket scope it raises, the server logs a traceback
and the client sees a 500. Fintalk speaks HTTP (SSE for streams), so an upgrade request —
to any path — is answered before Django with a plain HTTP refusal naming the endpoints.
Django does not speak ASGI's lifespan protocol either; Fintalk answers it so that a
graceful stop (SIGTERM) writes the conversation logs still queued, after the last
response has ended and before the process exits.
"""

import asyncio
import gc
import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fintalk.settings")
django.setup(set_prefix=False)  # as django.core.asgi.get_asgi_application does

from fintalk.handler import ASGIHandler  # noqa: E402 - needs the apps loaded above

django_application = ASGIHandler()

from django.conf import settings  # noqa: E402 - needs the apps loaded above
from django.urls import get_resolver  # noqa: E402

from agents.tokens import warm_up  # noqa: E402
from conversations.writer import turn_log_writer_stop  # noqa: E402
from fintalk.errors import NOT_FOUND_HINT  # noqa: E402
from fintalk.tracing import (  # noqa: E402
    access_line_traced,
    asgi_traced,
    tracer_provider,
    tracing_setup,
)

# Load the tokenizer in each worker at start-up, not during its first request.
warm_up()

# Traces only when OTEL_EXPORTER_OTLP_ENDPOINT is set; unset, nothing is set up at all.
if tracing_setup():
    from agents.tracing import llama_index_instrument

    llama_index_instrument(tracer_provider(), content=settings.TRACE_CONTENT)
    django_application = asgi_traced(django_application)
    access_line_traced()

_WEBSOCKET_REFUSAL = json.dumps(
    {
        "error": {
            "message": f"Fintalk does not accept WebSocket connections. {NOT_FOUND_HINT}",
            "type": "invalid_request_error",
            "param": None,
            "code": "websocket_not_supported",
        }
    }
).encode()


async def _refuse_websocket(scope, receive, send) -> None:
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    if "websocket.http.response" in scope.get("extensions", {}):
        await send(
            {
                "type": "websocket.http.response.start",
                "status": 404,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(_WEBSOCKET_REFUSAL)).encode())],
            }
        )
        await send({"type": "websocket.http.response.body", "body": _WEBSOCKET_REFUSAL})
    else:
        await send({"type": "websocket.close", "code": 1008})  # the server answers 403


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await asyncio.to_thread(turn_log_writer_stop)
            await send({"type": "lifespan.shutdown.complete"})
            return


async def application(scope, receive, send) -> None:
    if scope["type"] == "websocket":
        await _refuse_websocket(scope, receive, send)
        return
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    await django_application(scope, receive, send)


def _heap_settled() -> None:
    """Import what requests need, then take start-up's objects out of the garbage
    collector's scans (``gc.freeze``).

    A worker holds about 230,000 objects from start-up (Django, LlamaIndex, pydantic
    schemas). Each full collection scanned them all — 110–270 ms on the project's 2-core
    machine, a pause for every open stream: the p99 of time to first token. Frozen, they are
    never scanned again: a full collection scans what requests made (~15 ms at 16 streams).
    (A start-up object that later becomes garbage in a reference cycle is never freed:
    start-up keeps what it makes.)
    """
    get_resolver().url_patterns  # noqa: B018 - imports the views, the agent and LlamaIndex
    gc.collect()
    gc.freeze()


_heap_settled()
