"""Fintalk's ASGI app with a stopwatch: where each request's time to first token goes.

For profiling only (``python -m bench.profile``), never in production. Serve it in place of
``fintalk.asgi:application``; it wraps a handful of Fintalk and LlamaIndex
functions at import and records, per chat completion, when each stage was first reached
(milliseconds since the ASGI call began). ``GET /_bench/timeline`` returns the records
gathered so far and forgets them.

Stages that a version of the code no longer has are skipped, not fatal: the wrappers look
their targets up by name and leave alone what they cannot find.
"""

import contextvars
import functools
import importlib
import inspect
import json
import time

from asgiref.sync import markcoroutinefunction

from fintalk.asgi import application as fintalk_application

_marks: contextvars.ContextVar[dict | None] = contextvars.ContextVar("bench_marks", default=None)
_records: list[dict] = []

# (stage, module, attribute path, when): "enter" marks the call, "exit" its return,
# "first" the first item an async iterator yields.
STAGES = (
    ("dispatch", "api.base", "AsyncAPIView.dispatch", "enter"),
    ("authenticated", "api.base", "api_key_authenticate", "exit"),
    ("rate_limited", "api.base", "rate_limit_check", "exit"),
    ("view", "api.views", "ChatCompletionsView.post", "enter"),
    ("completion_built", "api.views", "start_completion", "exit"),
    ("tools_built", "agents.runner", "tools_for", "exit"),
    # The speculative first call leaves before the agent is built.
    ("upstream_request", "agents.providers.openai_http", "OpenAIHTTP.post", "enter"),
    ("agent_run_called", "agents.runner", "BankAgent.run", "enter"),
    ("upstream_headers", "agents.providers.openai_http", "OpenAIHTTP.post", "exit"),
    ("upstream_first_chunk", "agents.providers.openai_llm", "line_batches", "first"),
    ("agent_first_event", "agents.answering", "_attempt_events", "first"),
)
# The order a request normally passes them, with the ASGI-level marks around them.
ORDER = ("asgi", *dict.fromkeys(stage for stage, *_ in STAGES), "headers_sent", "first_content_sent")


def _mark(stage: str) -> None:
    marks = _marks.get()
    if marks is not None and stage not in marks:
        marks[stage] = (time.perf_counter() - marks["asgi"]) * 1000


def _wrap(function, stage: str, when: str):
    if when == "first":

        @functools.wraps(function)
        async def first_item(*args, **kwargs):
            iterator = function(*args, **kwargs)
            async for item in iterator:
                _mark(stage)
                yield item

        return first_item

    async def awaited(result):
        result = await result
        _mark(stage)
        return result

    # Not ``async def``: some targets (openai's ``create``) are plain functions that return
    # a coroutine, and "exit" means when that coroutine is done.
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if when == "enter":
            _mark(stage)
        result = function(*args, **kwargs)
        if when == "exit":
            if inspect.isawaitable(result):
                return awaited(result)
            _mark(stage)
        return result

    if inspect.iscoroutinefunction(function):
        markcoroutinefunction(wrapper)
    return wrapper


def _install() -> list[str]:
    installed = []
    for stage, module_name, path, when in STAGES:
        try:
            owner = importlib.import_module(module_name)
            *parents, name = path.split(".")
            for parent in parents:
                owner = getattr(owner, parent)
            function = inspect.getattr_static(owner, name)
        except (ImportError, AttributeError):
            continue
        if isinstance(function, (staticmethod, classmethod)):
            continue
        setattr(owner, name, _wrap(function, stage, when))
        installed.append(stage)
    return installed


INSTALLED = _install()


async def application(scope, receive, send):
    if scope["type"] == "http" and scope["path"] == "/_bench/timeline":
        body = json.dumps({"stages": INSTALLED, "order": ORDER, "records": _records}).encode()
        _records.clear()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})
        return
    if scope["type"] != "http" or not scope["path"].endswith("/chat/completions"):
        await fintalk_application(scope, receive, send)
        return
    marks = {"asgi": time.perf_counter()}
    _marks.set(marks)

    async def timed_send(message):
        if message["type"] == "http.response.start":
            _mark("headers_sent")
        elif message["type"] == "http.response.body" and b'"content":"' in message.get("body", b""):
            body = message["body"]
            if body.count(b'"content":""') < body.count(b'"content":"'):
                _mark("first_content_sent")
        await send(message)

    try:
        await fintalk_application(scope, receive, timed_send)
    finally:
        _records.append({k: v for k, v in marks.items() if k != "asgi"})
