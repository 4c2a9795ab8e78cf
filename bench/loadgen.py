"""An asyncio + aiohttp load generator for OpenAI-style streaming chat completions.

It starts requests at a steady arrival rate with at most ``concurrency`` in flight, and
records for each request: time to the first body byte, time to the first *content* chunk
(the role-only chunk does not count), every gap between content chunks as the client saw
them, completion (``finish_reason`` and ``[DONE]`` seen), and errors. A phase is bounded
by its request count and by a wall-clock limit; requests still open at the limit are
cancelled and counted apart from errors (as not completed).

Parsing is kept to byte searches so that the client, on the same two cores as the
servers, costs as little as possible per chunk.
"""

import asyncio
import json
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

_CONTENT = re.compile(rb'"content":"[^"]')
_FINISH = b'"finish_reason":"'
_ERROR = b'"error":'
_DONE = b"data: [DONE]"


@dataclass(frozen=True)
class Target:
    """Where requests go: the fake upstream directly, or Fintalk in front of it."""

    name: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    # Run the tool turn the way an agent would: after a tool-call reply, send the tool's
    # result in a second request; time to first token counts from the first request.
    tool_round_trip: bool = False


@dataclass(frozen=True)
class Load:
    concurrency: int
    requests: int
    rate: float | None = None  # arrivals per second; None starts each request as soon as a slot frees
    stream: bool = True
    timeout_s: float = 120.0
    max_duration_s: float = 300.0
    # False: a new connection per request, so that every gunicorn worker gets some.
    keep_alive: bool = True


@dataclass
class RequestResult:
    started_s: float  # since the phase began
    status: int = 0
    ttfb_ms: float | None = None
    ttft_ms: float | None = None
    total_ms: float | None = None
    tokens: int = 0
    gaps_ms: list[float] = field(default_factory=list)
    finished: bool = False
    error: str = ""
    cancelled: bool = False  # still open when the phase's time limit came

    @property
    def ok(self) -> bool:
        return not self.error and self.finished


@dataclass
class PhaseResult:
    target: str
    load: Load
    results: list[RequestResult]
    wall_s: float
    max_in_flight: int


class _Stream:
    """Reads one SSE response, timing content chunks as they arrive."""

    def __init__(self, result: RequestResult, started: float) -> None:
        self.result = result
        self.started = started
        self.buffer = b""
        self.last_content: float | None = None
        self.done = False
        self.events: list[bytes] = []
        self.keep_events = False

    def feed(self, data: bytes, now: float) -> None:
        result = self.result
        if result.ttfb_ms is None:
            result.ttfb_ms = (now - self.started) * 1000
        self.buffer += data
        *events, self.buffer = self.buffer.split(b"\n\n")
        for event in events:
            if self.keep_events:
                self.events.append(event)
            if event.startswith(_DONE):
                self.done = True
            elif _CONTENT.search(event):
                result.tokens += 1
                if self.last_content is None:
                    result.ttft_ms = (now - self.started) * 1000
                else:
                    result.gaps_ms.append((now - self.last_content) * 1000)
                self.last_content = now
            elif _ERROR in event:
                result.error = result.error or "error event: " + event[6:200].decode(errors="replace")
            if _FINISH in event:
                result.finished = True


def _tool_follow_up(body: dict, events: list[bytes]) -> dict | None:
    """The second request of a tool turn, or None when the reply called no tool."""
    for event in events:
        if b'"tool_calls"' in event and not event.startswith(_DONE):
            delta = json.loads(event[6:])["choices"][0]["delta"]
            call = delta["tool_calls"][0]
            call.pop("index", None)
            messages = [
                *body["messages"],
                {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": call["id"], "content": "We offer personal loans."},
            ]
            return {**body, "messages": messages}
    return None


async def _one(
    session: aiohttp.ClientSession, target: Target, body: dict, load: Load, result: RequestResult
) -> None:
    started = time.perf_counter()
    try:
        stream = _Stream(result, started)
        payload = body
        for _ in range(2):
            stream.keep_events = target.tool_round_trip
            async with session.post(target.url, data=json.dumps(payload), headers=target.headers) as response:
                result.status = response.status
                if response.status != 200:
                    text = (await response.text())[:200]
                    result.error = f"HTTP {response.status}: {text}"
                    return
                if not load.stream:
                    reply = await response.json()
                    now = time.perf_counter()
                    result.ttfb_ms = result.ttft_ms = (now - started) * 1000
                    content = reply["choices"][0]["message"].get("content") or ""
                    result.tokens = len(content.split())
                    result.finished = bool(reply["choices"][0].get("finish_reason"))
                    break
                async for data in response.content.iter_any():
                    stream.feed(data, time.perf_counter())
            if not target.tool_round_trip or result.tokens:
                break
            payload = _tool_follow_up(body, stream.events)
            if payload is None:
                break
            stream.events.clear()
            stream.done = result.finished = False
        if load.stream and not stream.done and not result.error:
            result.error = "stream ended without [DONE]"
    except asyncio.TimeoutError:
        result.error = f"timeout after {load.timeout_s:.0f}s"
    except aiohttp.ClientError as error:
        result.error = f"{type(error).__name__}: {error}"[:200]
    finally:
        result.total_ms = (time.perf_counter() - started) * 1000


async def run_phase(
    target: Target, body: dict, load: Load, on_done: Callable[[RequestResult], None] | None = None
) -> PhaseResult:
    """Send ``load.requests`` requests of ``body`` to ``target``; returns every result.

    ``on_done`` is called with each result as its request ends (for progress and sampling).
    """
    connector = aiohttp.TCPConnector(
        limit=load.concurrency, limit_per_host=0, ttl_dns_cache=None, force_close=not load.keep_alive
    )
    timeout = aiohttp.ClientTimeout(total=load.timeout_s, sock_connect=30)
    slots = asyncio.Semaphore(load.concurrency)
    results: list[RequestResult] = []
    tasks: list[asyncio.Task] = []
    in_flight = max_in_flight = 0

    async def run(result: RequestResult) -> None:
        nonlocal in_flight, max_in_flight
        in_flight += 1
        max_in_flight = max(max_in_flight, in_flight)
        try:
            await _one(session, target, body, load, result)
        finally:
            in_flight -= 1
            slots.release()
            if on_done is not None:
                on_done(result)

    async with aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False) as session:
        begin = time.perf_counter()
        deadline = begin + load.max_duration_s
        for index in range(load.requests):
            if load.rate:
                delay = begin + index / load.rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            await slots.acquire()
            if time.perf_counter() >= deadline:
                slots.release()
                break
            result = RequestResult(started_s=time.perf_counter() - begin)
            results.append(result)
            tasks.append(asyncio.create_task(run(result)))
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=max(0.0, deadline - time.perf_counter()))
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            for result in results:
                if result.total_ms is None or (not result.ok and not result.error):
                    result.cancelled = True
        wall = time.perf_counter() - begin
    return PhaseResult(target.name, load, results, wall, max_in_flight)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of unsorted values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summarise(phase: PhaseResult) -> dict:
    """The numbers a report shows for one phase."""
    results = phase.results
    ok = [r for r in results if r.ok]
    ttft = [r.ttft_ms for r in ok if r.ttft_ms is not None]
    gaps = [gap for r in ok for gap in r.gaps_ms]
    totals = [r.total_ms for r in ok if r.total_ms is not None]
    errors = Counter(
        r.error.split(":")[0] if r.error else "unfinished" for r in results if not r.ok and not r.cancelled
    )
    samples = [r.error for r in results if r.error][:3]

    def pcts(values: list[float]) -> dict:
        return {f"p{q:g}": percentile(values, q) for q in (50, 90, 99)} | {
            "max": max(values) if values else None,
            "mean": sum(values) / len(values) if values else None,
        }

    return {
        "target": phase.target,
        "concurrency": phase.load.concurrency,
        "rate_per_s": phase.load.rate,
        "requests": len(results),
        "ok": len(ok),
        "errors": sum(errors.values()),
        "cancelled_at_limit": sum(1 for r in results if r.cancelled),
        "error_kinds": dict(errors),
        "error_samples": samples,
        "max_in_flight": phase.max_in_flight,
        "wall_s": phase.wall_s,
        "requests_per_s": len(ok) / phase.wall_s if phase.wall_s else None,
        "tokens": sum(r.tokens for r in ok),
        "tokens_per_s": sum(r.tokens for r in ok) / phase.wall_s if phase.wall_s else None,
        "ttfb_ms": pcts([r.ttfb_ms for r in ok if r.ttfb_ms is not None]),
        "ttft_ms": pcts(ttft),
        "gap_ms": pcts(gaps),
        "total_ms": pcts(totals),
    }


async def run_calls(
    target: Target, body: dict, *, calls: int, period_s: float, duration_s: float, timeout_s: float = 60.0
) -> PhaseResult:
    """``calls`` voice calls for ``duration_s``: each sends a turn (``body``) about every
    ``period_s`` seconds (±20%, first turns spread over one period), as callers take turns
    to speak; most calls are listening at any moment. One connection per call, kept alive.
    """
    load = Load(concurrency=calls, requests=0, timeout_s=timeout_s, max_duration_s=duration_s)
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, ttl_dns_cache=None)
    timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=30)
    results: list[RequestResult] = []
    in_flight = max_in_flight = 0
    draw = random.Random(14)

    async with aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False) as session:
        begin = time.perf_counter()
        end = begin + duration_s

        async def call() -> None:
            nonlocal in_flight, max_in_flight
            due = begin + draw.uniform(0, period_s)
            while True:
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                if time.perf_counter() >= end:
                    return
                result = RequestResult(started_s=time.perf_counter() - begin)
                results.append(result)
                in_flight += 1
                max_in_flight = max(max_in_flight, in_flight)
                try:
                    await _one(session, target, body, load, result)
                finally:
                    in_flight -= 1
                due += period_s * draw.uniform(0.8, 1.2)

        await asyncio.gather(*(call() for _ in range(calls)))
        wall = time.perf_counter() - begin
    load = Load(concurrency=calls, requests=len(results), timeout_s=timeout_s, max_duration_s=duration_s)
    return PhaseResult(target.name, load, results, wall, max_in_flight)
