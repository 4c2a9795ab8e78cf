"""The background writer of turn logs: no request ever waits for the conversation log.

One thread per process takes finished ``TurnRecord``s from a queue and stores them in
batches (``conversations.services.turn_logs_write``): it waits up to
``CONVERSATION_LOG_BATCH_MS`` after a record arrives for others to join it, then writes
them all in one transaction. Many small transactions from many requests were what made
SQLite's writers queue behind each other (a 4.7 s p99 on non-streaming requests); one
writer batching them turns that into one short transaction every few milliseconds.

Nothing submitted is lost on a graceful shutdown: ``turn_log_writer_stop`` (called by
the ASGI lifespan's shutdown, the MQTT bridge's exit, and at interpreter exit) writes
what is queued before the process ends. A batch the database cannot take (connection
lost, database locked) is retried with a growing pause for about two minutes, then
written to the application log; a record it refuses alone is stored reduced.
``turn_logs_flush`` waits until everything submitted so far is stored (tests, commands).
"""

import atexit
import logging
import queue
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

from conversations.recording import TurnRecord
from conversations.services import turn_logs_write
from fintalk.observability import CONVERSATION_LOG_BACKLOG

logger = logging.getLogger(__name__)

BATCH_MAX = 200  # records per transaction
_RETRY_PAUSES = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0)  # seconds; the last one repeats
_RETRIES = 60  # about two minutes of an unavailable database before a batch is given up
_RETRIES_WHEN_STOPPING = 5

_FLUSH = object()  # write what has been gathered now, without waiting out the batch time
_STOP = object()


class TurnLogWriter:
    """A queue of records and the one thread that writes them.

    ``write`` stores a list of records, or raises ``OperationalError``/``InterfaceError``
    (the database is unavailable) having stored none.
    ``linger`` is how long, in seconds, the thread waits for a batch to fill.
    """

    def __init__(self, write: Callable[[list[TurnRecord]], object], *, linger: float) -> None:
        self._write = write
        self._linger = linger
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)
        self._submitted = 0
        self._written = 0
        self._thread: threading.Thread | None = None
        self._stopping = False

    def submit(self, record: TurnRecord) -> None:
        """Queue ``record`` for writing; never blocks, safe from any thread or event loop."""
        with self._lock:
            self._submitted += 1
            if self._thread is None or not self._thread.is_alive():
                self._start()
        CONVERSATION_LOG_BACKLOG.inc()
        self._queue.put(record)

    def _start(self) -> None:
        # A daemon thread, so a process that is killed hard does not hang on it; a graceful
        # exit stops it (and writes the queue) through ``stop``.
        self._thread = threading.Thread(target=self._run, name="turn-log-writer", daemon=True)
        self._thread.start()

    @property
    def backlog(self) -> int:
        """Records submitted and not yet written."""
        with self._lock:
            return self._submitted - self._written

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every record submitted before this call is written; False on timeout."""
        with self._lock:
            target = self._submitted
            if self._written >= target:
                return True
        self._queue.put(_FLUSH)
        with self._done:
            return self._done.wait_for(lambda: self._written >= target, timeout)

    def stop(self, timeout: float = 30.0) -> bool:
        """Write everything queued, then end the thread; False if that took over ``timeout``.

        A record submitted while the thread was ending (a response finishing as the server
        shuts down) is written here, on the calling thread, so it is not left in the queue
        of a thread that has gone.
        """
        with self._lock:
            thread = self._thread
            self._stopping = True
        if thread is not None and thread.is_alive():
            self._queue.put(_STOP)
            thread.join(timeout)
            if thread.is_alive():
                return False
        late = self._drain()
        if late:
            try:
                self._store(late)
            finally:
                connection.close()
        return self.backlog == 0

    def _drain(self) -> list[TurnRecord]:
        """The records still queued, taken without waiting (stop and flush markers dropped)."""
        records = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return records
            if item is not _STOP and item is not _FLUSH:
                records.append(item)

    def _run(self) -> None:
        try:
            stop = False
            while not stop:
                batch: list[TurnRecord] = []
                stop = self._gather(batch)
                if batch:
                    self._store(batch)
        finally:
            connection.close()

    def _gather(self, batch: list[TurnRecord]) -> bool:
        """Fill ``batch``: wait for one record, then up to the linger time for more. True
        when told to stop."""
        item = self._queue.get()
        deadline = time.monotonic() + self._linger
        while True:
            if item is _STOP:
                batch.extend(self._drain())  # submitted after the stop was asked for
                return True
            if item is _FLUSH:
                return False
            batch.append(item)
            if len(batch) >= BATCH_MAX:
                return False
            remaining = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                return False

    def _store(self, batch: list[TurnRecord]) -> None:
        attempt = 0
        while True:
            try:
                connection.close_if_unusable_or_obsolete()
                self._write(batch)
                break
            except (OperationalError, InterfaceError):
                attempt += 1
                if attempt > (_RETRIES_WHEN_STOPPING if self._stopping else _RETRIES):
                    _lost(batch, "the database stayed unavailable")
                    break
                logger.warning("Could not write %d conversation log(s); retrying", len(batch), exc_info=True)
                connection.close()
                time.sleep(_RETRY_PAUSES[min(attempt, len(_RETRY_PAUSES)) - 1])
            except Exception:
                # A bug, not the database: never let it kill the writer or block the rest.
                logger.exception("Could not write %d conversation log(s)", len(batch))
                _lost(batch, "they could not be written")
                break
        CONVERSATION_LOG_BACKLOG.dec(len(batch))
        with self._done:
            self._written += len(batch)
            self._done.notify_all()


def _lost(batch: list[TurnRecord], why: str) -> None:
    """The last resort: the application log gets what the database did not."""
    for record in batch:
        logger.error("Conversation log not stored (%s): %r", why, record)


_writer: TurnLogWriter | None = None
_writer_lock = threading.Lock()


def _default_writer() -> TurnLogWriter:
    global _writer
    with _writer_lock:
        if _writer is None:
            _writer = TurnLogWriter(
                lambda records: turn_logs_write(records=records),
                linger=settings.CONVERSATION_LOG_BATCH_MS / 1000,
            )
            atexit.register(turn_log_writer_stop)
        return _writer


def turn_log_submit(record: TurnRecord) -> None:
    """Queue a finished turn's record for the background writer (see the module)."""
    _default_writer().submit(record)


def turn_logs_flush(timeout: float | None = 30.0) -> bool:
    """Wait until every turn submitted so far is stored; False if not within ``timeout`` s."""
    return _writer.flush(timeout) if _writer is not None else True


def turn_log_writer_stop(timeout: float = 30.0) -> bool:
    """Store what is queued and stop the writer (graceful shutdown); idempotent."""
    return _writer.stop(timeout) if _writer is not None else True
