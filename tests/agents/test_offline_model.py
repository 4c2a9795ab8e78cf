"""The offline model: picks the right tool from how people actually ask, then speaks."""

import asyncio

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole

from agents.client_tools import ClientTool
from agents.offline.intents import detect
from agents.offline.model import OfflineBankingLLM
from agents.tools import BANK_TOOL_NAMES

ALL = set(BANK_TOOL_NAMES)


@pytest.mark.parametrize(
    ("text", "tool", "arguments"),
    [
        ("What loan options are available?", "list_loan_products", {}),
        ("do you do car loans", "list_loan_products", {"kind": "auto"}),
        ("what are your mortgage rates", "list_loan_products", {"kind": "home"}),
        ("I want to borrow money", "list_loan_products", {}),
        ("whats my credit card balance", "get_credit_card_summary", {}),
        ("how much do I owe on my card ending four five six seven", "get_credit_card_summary", {"card_last4": "4567"}),
        ("when is my payment due", "get_credit_card_summary", {}),
        ("what's the minimum paymnet on my visa", "get_credit_card_summary", {}),
        ("what is my balance", "get_account_balances", {}),
        ("how much money is in my savings", "get_account_balances", {"account_type": "savings"}),
        ("checking acount balnace please", "get_account_balances", {"account_type": "checking"}),
        ("WHAT IS MY BALANCE", "get_account_balances", {}),
    ],
)
def test_the_tool_and_its_arguments_come_from_the_words(text, tool, arguments):
    assert detect(text, available=ALL) == [(tool, arguments)]


def test_two_questions_in_one_sentence_call_two_tools():
    calls = detect("what's my checking balance and when is my card payment due", available=ALL)

    assert [tool for tool, _ in calls] == ["get_account_balances", "get_credit_card_summary"]


@pytest.mark.parametrize("text", ["tell me a joke", "", "what's the weather"])
def test_no_banking_words_means_no_tool(text):
    assert detect(text, available=ALL) == []


def test_only_tools_that_are_offered_are_chosen():
    assert detect("what loan options are there", available={"get_account_balances"}) == []


def chat(messages: list[ChatMessage], tools=()) -> ChatMessage:
    llm = OfflineBankingLLM(bank_name="Test Bank")
    return llm.chat(messages, tools=list(tools)).message


def test_after_tool_results_it_speaks_them():
    message = chat(
        [
            ChatMessage(role=MessageRole.USER, content="balance?"),
            ChatMessage(role=MessageRole.ASSISTANT, content=""),
            ChatMessage(role=MessageRole.TOOL, content="Your checking has $5.00."),
        ]
    )

    assert message.content == "Your checking has $5.00."


def test_greeting_is_answered_without_claiming_to_be_a_language_model():
    message = chat([ChatMessage(role=MessageRole.USER, content="hello there")])

    assert "Test Bank" in message.content
    assert "language model" not in message.content.lower()


def test_client_tools_are_called_when_asked_for_by_name():
    transfer = ClientTool(name="transferCall", description="Transfer to a human.", parameters={})
    llm = OfflineBankingLLM()

    response = llm.chat(
        [ChatMessage(role=MessageRole.USER, content="can you transfer call to a person")], tools=[transfer]
    )

    calls = llm.get_tool_calls_from_response(response)
    assert [call.tool_name for call in calls] == ["transferCall"]


def test_streaming_yields_the_answer_word_by_word():
    llm = OfflineBankingLLM()

    async def main():
        stream = await llm.astream_chat([ChatMessage(role=MessageRole.USER, content="thanks")])
        return [response.delta async for response in stream]

    deltas = asyncio.run(main())

    assert len(deltas) > 3
    assert "".join(deltas) == "You're welcome. Is there anything else I can help you with?"
