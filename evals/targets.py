"""Where an evaluation runs: this process on a database of its own, or a running server."""

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections

from agents.providers import provider_configured, provider_fallbacks
from api.keys import api_key_create
from bank.models import CallerSession, VerificationLock
from bank.services import demo_bank_seed
from conversations.writer import turn_logs_flush
from evals.client import HttpTransport, InProcessTransport
from evals.observe import Observer
from evals.runner import Target


def demo_bank_fresh() -> None:
    """Put the demo bank back as seeded and forget every conversation's caller state
    (sessions with their verification attempts, and the per-number verification locks)."""
    demo_bank_seed()
    CallerSession.objects.all().delete()
    VerificationLock.objects.all().delete()


def in_process_target(*, budgets: bool = True) -> Target:
    """This process's pipeline on the current database, reset before every conversation.

    The database must be one this evaluation may overwrite (``fresh_database`` or a test
    database): the demo customers are re-seeded and caller sessions deleted.
    """
    demo_bank_fresh()
    _, key = api_key_create(name="eval_conversations", trusted_channel=True)
    return Target(
        transport=lambda: InProcessTransport(key=key),
        observer=Observer(logs_written=sync_to_async(turn_logs_flush, thread_sensitive=False)),
        reset=sync_to_async(demo_bank_fresh),
        budgets=budgets,
    )


def http_target(url: str, *, key: str, budgets: bool = True) -> Target:
    """A running Fintalk; ``key`` should be a trusted channel's (Vapi callers' numbers).

    Tools and actions are read from this process's database when it is the server's.
    """
    return Target(
        transport=lambda: HttpTransport(url, key=key),
        observer=Observer(probe=True),
        budgets=budgets,
    )


def provider_use(name: str) -> None:
    """Answer with the provider ``name`` (``LLM_PROVIDER``'s values) in this process."""
    settings.LLM_PROVIDER = name
    settings.LLM_MODEL = ""
    provider_configured.cache_clear()
    provider_fallbacks.cache_clear()
    provider_configured()


@contextlib.contextmanager
def fresh_database() -> Iterator[None]:
    """A new, migrated database for the evaluation, removed afterwards.

    SQLite: a temporary file. Other engines: Django's test database beside the configured
    one (``test_<name>``), which needs the right to create databases.
    """
    from django.test.utils import setup_databases, teardown_databases

    with tempfile.TemporaryDirectory(prefix="fintalk-eval-") as folder:
        database = connections.databases["default"]
        if database["ENGINE"].endswith("sqlite3"):
            database.setdefault("TEST", {})["NAME"] = str(Path(folder) / "eval.sqlite3")
        state = setup_databases(verbosity=0, interactive=False)
        try:
            yield
        finally:
            teardown_databases(state, verbosity=0)
