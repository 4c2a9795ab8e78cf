"""Running conversation suites in the tests: in-process, on the test database."""

import asyncio

import pytest

from evals.runner import ConversationResult, Target, conversation_run
from evals.suites import ScriptedConversation
from evals.targets import in_process_target


@pytest.fixture
def in_process(transactional_db) -> Target:
    """This process's pipeline on a fresh demo bank; time budgets are not checked in tests."""
    return in_process_target(budgets=False)


def play(conversation: ScriptedConversation, target: Target) -> ConversationResult:
    return asyncio.run(conversation_run(conversation, target))
