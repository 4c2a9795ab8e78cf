"""Runs an answer's events in their own task, so the HTTP side can wait with deadlines.

The response reads from a queue instead of awaiting the agent directly. That lets it send
SSE keep-alive comments while a slow tool or upstream is silent (proxies cut idle
streams), enforce a first-token and an overall deadline, and stop the agent at once when
the client goes away. Per token it costs one put and one get on a ``_Channel``.
"""

import asyncio
from collections import deque
from collections.abc import AsyncIterator

from agents.answering import DEADLINE_CANCEL
from agents.events import ClientToolCall, TextDelta, TurnEvent
from fintalk import errors


class KeepAlive:
    """Nothing happened for a while; the stream should show it is alive."""


KEEP_ALIVE = KeepAlive()
_END = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Channel:
    """An unbounded queue with one reader: ``asyncio.Queue``'s ``put_nowait``/``get``
    without the bookkeeping it does per item (unfinished-task count, its "finished"
    event, a loop check): a dozen Python calls less per token."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: deque = deque()
        self._waiter: asyncio.Future | None = None

    def put_nowait(self, item: object) -> None:
        self._items.append(item)
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> object:
        while not self._items:
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                if self._waiter is waiter:
                    self._waiter = None
        return self._items.popleft()

    def empty(self) -> bool:
        return not self._items

    def get_nowait(self) -> object:
        return self._items.popleft()


class EventPump:
    def __init__(
        self,
        events: AsyncIterator[TurnEvent],
        *,
        keepalive: float,
        first_token_deadline: float,
        deadline: float,
    ) -> None:
        self._events = events
        self._keepalive = keepalive
        self._first_token_deadline = first_token_deadline
        self._deadline = deadline
        self._queue = _Channel()
        self._task: asyncio.Task | None = None
        self._timers: list[asyncio.TimerHandle] = []
        self._first_token_timer: asyncio.TimerHandle | None = None
        self._last_event = 0.0
        self._finished = False

    def start(self) -> "EventPump":
        loop = asyncio.get_running_loop()
        self._last_event = loop.time()
        self._task = loop.create_task(self._produce())
        self._first_token_timer = loop.call_later(
            self._first_token_deadline, self._expire, "the first token", self._first_token_deadline
        )
        self._timers = [
            self._first_token_timer,
            loop.call_later(self._deadline, self._expire, "the answer", self._deadline),
            loop.call_later(self._keepalive, self._tick),
        ]
        return self

    async def _produce(self) -> None:
        loop = asyncio.get_running_loop()
        put = self._queue.put_nowait
        try:
            async for event in self._events:
                if self._first_token_timer is not None and isinstance(event, (TextDelta, ClientToolCall)):
                    self._first_token_timer.cancel()
                    self._first_token_timer = None
                self._last_event = loop.time()
                put(event)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - handed to the consumer to report
            put(_Failed(error))
        finally:
            put(_END)

    def _tick(self) -> None:
        if self._finished:
            return
        loop = asyncio.get_running_loop()
        idle = loop.time() - self._last_event
        if idle >= self._keepalive:
            self._queue.put_nowait(KEEP_ALIVE)
            idle = 0.0
        self._timers.append(loop.call_later(self._keepalive - idle, self._tick))

    def _expire(self, what: str, seconds: float) -> None:
        if self._task is None or self._task.done():
            return
        message = f"No answer: {what} took longer than {seconds:g} s."
        self._queue.put_nowait(_Failed(errors.UpstreamTimeout(message)))
        self._task.cancel(f"{DEADLINE_CANCEL}: {message}")

    async def next(self) -> TurnEvent | KeepAlive | None:
        """The next event, ``KEEP_ALIVE``, or None at the end; raises the answer's error."""
        if self._finished:
            return None
        item = await self._queue.get()
        if item is _END:
            self._finished = True
            return None
        if isinstance(item, _Failed):
            self._finished = True
            if isinstance(item.error, errors.FintalkError):
                raise item.error
            raise errors.FintalkError("The assistant failed while answering.") from item.error
        return item

    async def aclose(self) -> None:
        """Stop the answer (if still running) and wait until it has been logged."""
        self._finished = True
        for timer in self._timers:
            timer.cancel()
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self._task is not None:
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def leftover(self) -> list[TurnEvent]:
        """Events the answer produced that were never taken (after ``aclose``): generated,
        never sent — the conversation log counts what they cost."""
        events = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if not isinstance(item, (KeepAlive, _Failed)) and item is not _END:
                events.append(item)
        return events
