"""Playing scripted conversations: a wrong expectation fails and says which turn and what
differed; tools and actions are read from what the server did."""

import asyncio
import dataclasses
from unittest import mock

import pytest
from asgiref.sync import sync_to_async

from conversations.writer import turn_logs_flush
from evals.observe import Observation
from evals.runner import conversations_run
from evals.suites import Suite, conversations_expand
from evals.targets import http_target
from tests.evals.conftest import play

ANA = {"channel": "vapi", "phone": "+14155550101"}


def _conversation(*turns: dict, caller: dict = ANA, **extra):
    suite = Suite.model_validate(
        {"suite": "t", "conversations": [{"name": "c", "caller": caller, "turns": list(turns), **extra}]}
    )
    return conversations_expand(suite)[0]


def test_a_conversation_as_expected_passes(in_process):
    result = play(
        _conversation(
            {"user": "freeze my card ending 4567", "expect": {"tools": [{"name": "freeze_card", "arguments": {"card_last4": 4567}}], "action": "pending"}},
            {"user": "yes", "expect": {"action": "executed", "says": ["IS NOW   frozen"]}},
        ),
        in_process,
    )

    assert result.passed, result.failure()
    assert result.failure() == ""
    assert [use.name for use in result.turns[1].tools_called] == ["confirm_pending_action"]


def test_a_wrong_expectation_says_which_turn_and_what_differed(in_process):
    result = play(
        _conversation(
            {"user": "freeze my card", "expect": {"action": "pending"}},
            {"user": "yes", "expect": {"action": "executed", "tools": [{"name": "unfreeze_card"}], "says": ["is now unfrozen"]}},
        ),
        in_process,
    )

    assert not result.passed
    failure = result.failure()
    assert failure.startswith("turn 2 ('yes'): ")
    assert "expected the answer to say 'is now unfrozen'" in failure
    assert "the answer was: 'Your Visa ending 4567 is now frozen" in failure
    assert "without the caller confirming" not in failure
    assert "expected tools unfreeze_card(); called confirm_pending_action()" in failure
    assert result.turns[0].passed
    assert result.turns[1].tool_choice is False


def test_wrong_tool_arguments_are_named(in_process):
    result = play(
        _conversation(
            {"user": "move $250 from savings to checking", "expect": {"tools": [{"name": "transfer_between_accounts", "arguments": {"amount": 300}}]}},
        ),
        in_process,
    )

    assert "transfer_between_accounts was called without transfer_between_accounts(amount=300)" in result.failure()


def test_an_action_done_in_a_turn_not_scripted_as_the_confirmation_is_unconfirmed(in_process):
    result = play(
        _conversation({"user": "freeze my card"}, {"user": "yes", "expect": {"action": "none"}}),
        in_process,
    )

    assert result.turns[1].unconfirmed_actions == 1
    assert "1 action(s) executed without the caller confirming in a later turn" in result.failure()


def test_a_turn_whose_log_is_late_still_counts_the_action_it_created(in_process):
    # CI: on a loaded machine the first turn's log was not found in time; its pending
    # action was then left out of the snapshot, and the confirming turn looked like an
    # action asked for and done at once.
    from evals import observe

    read_log = observe._tools_of
    late = {"first": True}

    def first_log_late(completion_id):
        if late.pop("first", False):
            return None
        return read_log(completion_id)

    written = sync_to_async(turn_logs_flush, thread_sensitive=False)
    target = dataclasses.replace(in_process, observer=observe.Observer(log_timeout=0.0, logs_written=written))
    with mock.patch("evals.observe._tools_of", side_effect=first_log_late):
        result = play(
            _conversation(
                {"user": "freeze my card", "expect": {"tools": [{"name": "freeze_card"}], "action": "pending"}},
                {"user": "yes", "expect": {"tools": [{"name": "confirm_pending_action"}], "action": "executed"}},
            ),
            target,
        )

    assert result.turns[0].unchecked == ["tools", "action"]
    assert result.turns[1].unchecked == []
    assert result.turns[1].unconfirmed_actions == 0
    assert result.passed, result.failure()


def test_an_action_asked_for_and_done_in_one_turn_is_unconfirmed():
    observed = Observation(tools=[], actions_before={1: "completed"}, actions_after={1: "completed", 2: "completed"})

    assert observed.executed_without_confirmation() == 1
    assert observed.action_changes()["executed"] == 1


def test_a_full_card_number_in_an_answer_always_fails(in_process):
    result = play(
        _conversation({"user": "hi"}, history=[{"role": "assistant", "content": "hello"}]),
        in_process,
    )
    assert result.passed, result.failure()

    from evals.checks import turn_check

    leaked = turn_check(
        result.turns[0].turn,
        type(result.turns[0].reply)(status=200, text="Your card 4111 1111 1111 1111 is active."),
        Observation(tools=[], actions_before={}, actions_after={}),
    )
    assert "the answer contains a full card number" in leaked.differences


def test_client_tools_are_offered_and_their_calls_read_from_the_stream(in_process):
    result = play(
        _conversation(
            {"user": "I want to speak to a representative", "expect": {"tools": ["transferCall"], "finish_reason": "tool_calls"}},
            client_tools=["transferCall"],
        ),
        in_process,
    )

    assert result.passed, result.failure()
    assert result.turns[0].reply.client_tool_calls[0]["name"] == "transferCall"


def test_a_web_caller_verifies_within_their_own_conversation(in_process):
    result = play(
        _conversation(
            {"user": "I'm 415 555 0103, card ending 1111, zip 94605. how much do I owe on my cards?", "expect": {"says": ["you're verified"]}},
            {"user": "and my balances?", "expect": {"tools": ["get_account_balances"], "says": ["6,120.88"]}},
            caller={"channel": "web"},
        ),
        in_process,
    )

    assert result.passed, result.failure()


@pytest.mark.django_db(transaction=True)
def test_against_a_running_server_over_http(live_server_url, trusted_key, demo_bank):
    conversation = _conversation(
        {"user": "pay the minimum on my credit card", "expect": {"tools": ["pay_credit_card"], "action": "pending", "first_token_ms": 30000}},
        {"user": "yes", "expect": {"action": "executed", "says": ["I've paid $35.00"]}},
    )

    [result] = asyncio.run(conversations_run([conversation], http_target(live_server_url, key=trusted_key)))

    assert result.passed, result.failure()
    assert result.turns[0].tool_choice is True
    assert result.turns[0].reply.first_token_ms is not None
    assert result.turns[0].reply.completion_tokens > 0


def test_a_server_whose_log_is_not_in_this_database_leaves_tools_unchecked(transactional_db):
    from evals.observe import Observer

    observer = Observer(probe=True, log_timeout=0.2)

    assert asyncio.run(observer.tools("chatcmpl-from-another-database")) is None
    assert observer.available is False
    assert asyncio.run(observer.actions("call:anything")) == {}


def test_conversations_that_lock_a_number_do_not_lock_the_next_one(in_process):
    locking = _conversation(
        {"user": "my number is 415 555 0101, what's my balance?"},
        {"user": "card ending 4567, born January 1 1990"},
        {"user": "card ending 4567, zip 10001"},
        {"user": "card ending 1234, zip 94110", "expect": {"says": ["transfer you to a colleague"]}},
        caller={"channel": "web"},
    )
    verifying = _conversation(
        {"user": "I'm 415 555 0101, card ending 4567, zip 94110. how much is in checking?", "expect": {"says": ["Thank you, Ana, you're verified"]}},
        caller={"channel": "web"},
    )

    results = asyncio.run(conversations_run([locking, locking, verifying], in_process))

    assert all(result.passed for result in results), [r.failure() for r in results]
