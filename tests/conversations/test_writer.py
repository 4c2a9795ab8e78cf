"""The background writer: batches, retries, flushes on demand and on shutdown."""

import signal
import threading

import httpx
import pytest
from django.db import OperationalError

from conversations.models import Turn
from conversations.writer import TurnLogWriter
from tests.conftest import ServerProcess
from tests.conversations.factories import turn_record


class Storage:
    """Stands in for the database: keeps the batches, can refuse the first few."""

    def __init__(self, refusals: int = 0) -> None:
        self.batches: list[list] = []
        self.refusals = refusals
        self.tries = 0
        self.writer_threads: set[str] = set()

    def write(self, records: list) -> None:
        self.tries += 1
        self.writer_threads.add(threading.current_thread().name)
        if self.refusals:
            self.refusals -= 1
            raise OperationalError("database is locked")
        self.batches.append(list(records))


def test_records_gathered_while_the_writer_waits_are_written_in_one_batch_on_flush():
    storage = Storage()
    writer = TurnLogWriter(storage.write, linger=600.0)
    records = [turn_record() for _ in range(3)]

    for record in records:
        writer.submit(record)
    flushed = writer.flush(timeout=30)

    assert flushed and writer.backlog == 0
    assert storage.batches == [records]
    assert storage.writer_threads == {"turn-log-writer"}
    writer.stop()


def test_a_batch_the_database_refuses_is_retried_not_lost():
    storage = Storage(refusals=2)
    writer = TurnLogWriter(storage.write, linger=0.0)
    record = turn_record()

    writer.submit(record)

    assert writer.flush(timeout=30)
    assert storage.batches == [[record]] and storage.tries == 3
    writer.stop()


def test_stopping_writes_what_is_still_queued():
    storage = Storage()
    writer = TurnLogWriter(storage.write, linger=600.0)
    records = [turn_record(), turn_record()]
    for record in records:
        writer.submit(record)

    stopped = writer.stop(timeout=30)

    assert stopped
    assert [record for batch in storage.batches for record in batch] == records


def test_a_turn_submitted_while_the_writer_is_stopping_is_written():
    # A response can finish while the server shuts down: its record arrives after the
    # stop was asked for, behind the stop marker, while the thread still writes.
    storage = Storage()
    writing = threading.Event()
    release = threading.Event()

    def slow_write(records: list) -> None:
        writing.set()
        assert release.wait(30)
        storage.write(records)

    writer = TurnLogWriter(slow_write, linger=0.0)
    first, late = turn_record(), turn_record()
    writer.submit(first)
    assert writing.wait(30)
    stopping = threading.Thread(target=writer.stop)
    stopping.start()
    while writer._queue.empty():  # the stop marker is queued
        threading.Event().wait(0.001)
    writer.submit(late)
    release.set()
    stopping.join(30)

    assert [record for batch in storage.batches for record in batch] == [first, late]
    assert writer.backlog == 0


def test_a_turn_submitted_after_the_writer_stopped_is_written_by_the_next_stop():
    # The interpreter's exit stops the writer again after the server's lifespan did.
    storage = Storage()
    writer = TurnLogWriter(storage.write, linger=600.0)
    writer.submit(first := turn_record())
    assert writer.stop(timeout=30)

    writer.submit(late := turn_record())
    assert writer.stop(timeout=30)

    assert [record for batch in storage.batches for record in batch] == [first, late]
    assert writer.backlog == 0


@pytest.mark.django_db(transaction=True)
def test_sigterm_writes_the_turns_the_writer_was_still_holding(trusted_key):
    # The writer holds turns for up to ten minutes: only the graceful stop can write them.
    server = ServerProcess({"CONVERSATION_LOG_BATCH_MS": "600000"})
    try:
        server.wait_ready()
        ids = []
        for question in ("hi", "what are your loan options", "bye"):
            response = httpx.post(
                f"{server.url}/v1/chat/completions",
                json={"messages": [{"role": "user", "content": question}], "stream": False},
                headers={"Authorization": f"Bearer {trusted_key}"},
                timeout=30,
            )
            assert response.status_code == 200, response.text
            ids.append(response.json()["id"])
        held = Turn.objects.filter(completion_id__in=ids).count()
        server.process.send_signal(signal.SIGTERM)
        exit_code = server.process.wait(timeout=60)
        log = server.log_path.read_text()
    finally:
        server.stop()

    assert held == 0
    assert exit_code == 0, log
    assert Turn.objects.filter(completion_id__in=ids).count() == 3, log
