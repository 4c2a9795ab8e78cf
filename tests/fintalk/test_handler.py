"""Fintalk's ASGI handler: Django's, with the request signals sent on the event loop when
no thread holds anything for them to close (``fintalk.handler``)."""

import asyncio
import hashlib
import inspect
import json
import threading

import pytest
from asgiref.sync import SyncToAsync, ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler

from fintalk.handler import ASGIHandler

# Django 5.2's ``ASGIHandler.handle`` and ``__call__``, of which fintalk.handler is a copy.
DJANGO_HANDLE_SHA256 = "544c80be414e4b84b953fd327e3d250e49bbde7e04b0ab6451e15cefa68fa6d9"


def test_djangos_handler_is_still_the_one_fintalk_copied():
    source = inspect.getsource(DjangoASGIHandler.handle) + inspect.getsource(DjangoASGIHandler.__call__)

    assert hashlib.sha256(source.encode()).hexdigest() == DJANGO_HANDLE_SHA256, (
        "Django's ASGIHandler changed: compare fintalk/handler.py with it, then update the hash"
    )


def test_a_requests_context_owns_a_thread_once_it_runs_synchronous_code():
    async def run() -> tuple[bool, bool]:
        async with ThreadSensitiveContext() as context:
            assert SyncToAsync.thread_sensitive_context.get(None) is context
            before = context in SyncToAsync.context_to_thread_executor
            await sync_to_async(lambda: None)()
            return before, context in SyncToAsync.context_to_thread_executor

    assert asyncio.run(run()) == (False, True)


def test_signals_still_sort_their_receivers_into_sync_and_async():
    sync_receivers, async_receivers = signals.request_started._live_receivers(None)

    assert isinstance(sync_receivers, list) and isinstance(async_receivers, list)


class _Heard:
    """Which threads the request signals were heard on."""

    def __init__(self) -> None:
        self.started: list[int] = []
        self.finished: list[int] = []

    def on_started(self, **kwargs) -> None:
        self.started.append(threading.get_ident())

    def on_finished(self, **kwargs) -> None:
        self.finished.append(threading.get_ident())


@pytest.fixture
def heard():
    listener = _Heard()
    signals.request_started.connect(listener.on_started, weak=False)
    signals.request_finished.connect(listener.on_finished, weak=False)
    yield listener
    signals.request_started.disconnect(listener.on_started)
    signals.request_finished.disconnect(listener.on_finished)


def _get(path: str, headers: list[tuple[bytes, bytes]] = ()) -> tuple[int, dict, int]:
    """GET ``path`` through a fresh handler; the status, the JSON body and the loop's thread."""

    async def call() -> tuple[int, dict, int]:
        sent: list[dict] = []
        received = False

        async def receive() -> dict:
            nonlocal received
            if not received:
                received = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await asyncio.Event().wait()  # the client never hangs up

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver"), *headers],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
        }
        await ASGIHandler()(scope, receive, send)
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return sent[0]["status"], json.loads(body), threading.get_ident()

    return asyncio.run(call())


def test_a_request_that_touches_no_database_starts_no_thread(heard, monkeypatch):
    started_threads = []
    original = threading.Thread.start

    def counted(thread):
        started_threads.append(thread.name)
        return original(thread)

    monkeypatch.setattr(threading.Thread, "start", counted)

    status, body, loop_thread = _get("/healthz")

    assert status == 200 and body["status"]
    assert started_threads == []
    assert heard.started == [loop_thread] and heard.finished == [loop_thread]


def test_a_request_that_used_the_database_closes_it_on_its_own_thread(heard, standard_key):
    from api import keys

    keys._recent.clear()  # the key is looked up in the database, on the request's thread

    status, body, loop_thread = _get("/v1/models", [(b"authorization", f"Bearer {standard_key}".encode())])

    assert status == 200 and body["object"] == "list"
    assert heard.started == [loop_thread]
    assert len(heard.finished) == 1 and heard.finished[0] != loop_thread
