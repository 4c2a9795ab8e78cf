"""The scripted model drives a real Fintalk server: what it streams and calls is what runs."""

import pytest

from tests.chat import Chat
from tests.scripted import QUIET, Step, call

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_scripted_model_calls_a_real_tool_and_sees_its_result(
    scripted_server_url, scripted_model, trusted_key, demo_bank
):
    ana = demo_bank["Ana Lopez"]
    scripted_model.then(
        Step("Let me look.", tool_calls=[call("get_account_balances")]),
        Step("Here you are.", chunk_size=3),
    )
    chat = Chat(scripted_server_url, trusted_key, phone=ana["phone"], model=None)

    answer = chat.say("what's my balance")

    assert answer == "Let me look. Here you are."  # steps joined at a word boundary
    shown = scripted_model.tool_results()
    assert len(shown) == 1 and ana["accounts"][0]["last4"] in shown[0]
    assert scripted_model.requests[0]["tools"], "Fintalk offers its bank tools to the model"


def test_an_empty_script_says_so(scripted_server_url, scripted_model, trusted_key, demo_bank):
    chat = Chat(scripted_server_url, trusted_key, phone=demo_bank["Ana Lopez"]["phone"], model=None)

    assert chat.say("hello") == QUIET
