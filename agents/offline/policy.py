"""The offline model's turn: answer from tool results, call a tool, or make small talk."""

import re
from collections.abc import Sequence
from datetime import date

from django.utils import timezone
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.tools import ToolMetadata

from agents import language, phrases
from agents.client_tools import ClientToolMetadata, client_call_arguments, client_call_question
from agents.offline.dialogue import Dialogue, last_index
from agents.offline.intents import best_intent, clauses, detect
from agents.prompts import OPENING_REQUEST
from fintalk.ids import new_id

_CAPABILITIES = (
    "your balances and transactions, your credit cards (including freezing a card or paying "
    "it), transfers between your accounts, our loans, and questions about the bank"
)
CARD_NUMBER_POLICY = (
    "For your security I only ever share the last four digits of a card, and I will never "
    "ask for your full card number, PIN or security code."
)
_SUMMARY_WORDS = ("balance", "owe", "due", "limit", "statement", "payment", "credit", "available")
_DETAIL_REPLIES = 3  # how far back the question behind a verification may be
_ANSWER_WORDS = ("minimum", "statement", "full", "checking", "savings", "today", "tomorrow")


def _client_tool_calls(text: str, tools: Sequence[ToolMetadata]) -> list[str]:
    """Client-defined tools (e.g. Vapi's transferCall) the caller asks for by name."""
    return [
        tool.get_name()
        for tool in tools
        if isinstance(tool, ClientToolMetadata) and language.mentions(text, tool.spoken_name)
    ]


_GOODBYES = ("bye", "goodbye", "good bye", "that's all", "that is all", "nothing else", "hang up")


def _client_hang_up(text: str, tools: Sequence[ToolMetadata]) -> str | None:
    """A client tool that ends the call (Vapi's endCall), when the caller says goodbye."""
    if not language.mentions(text, *_GOODBYES):
        return None
    return next(
        (
            tool.get_name()
            for tool in tools
            if isinstance(tool, ClientToolMetadata)
            and any(words in tool.spoken_name for words in ("end call", "hang up", "end conversation", "end the call"))
        ),
        None,
    )


def _client_handoff(tools: Sequence[ToolMetadata]) -> str | None:
    """A client tool that transfers the call (Vapi's transferCall), if one is offered."""
    return next(
        (
            tool.get_name()
            for tool in tools
            if isinstance(tool, ClientToolMetadata) and "transfer" in tool.spoken_name
        ),
        None,
    )


def _greeting(bank_name: str) -> str:
    return (
        f"Hello! Thank you for calling {bank_name}. I'm the virtual assistant: I can help with "
        f"{_CAPABILITIES}. What would you like to do?"
    )


def _small_talk(text: str, bank_name: str) -> str:
    if language.mentions(text, "thank you", "thanks", "thank", "cheers", "appreciate"):
        return "You're welcome. Is there anything else I can help you with?"
    if language.mentions(text, "bye", "goodbye", "that's all", "that is all", "nothing else"):
        return f"Thank you for banking with {bank_name}. Goodbye!"
    if language.mentions(
        text, "hello", "hi", "hey", "good morning", "good afternoon", "good evening"
    ):
        return (
            f"Hello! I'm the {bank_name} virtual assistant. I can help with {_CAPABILITIES}. "
            "What would you like to do?"
        )
    return (
        f"Sorry, I didn't catch that. I can help with {_CAPABILITIES}. What would you like to know?"
    )


def _tool_call(name: str, arguments: dict) -> ToolCallBlock:
    return ToolCallBlock(
        tool_call_id=new_id("call_", hex_digits=24), tool_name=name, tool_kwargs=arguments
    )


def _verification(dialogue: Dialogue, today: date) -> dict | None:
    """verify_identity's arguments when the caller is giving their details."""
    found = language.parse_credentials(dialogue.text, today=today)
    if dialogue.asked_to_verify and not found.complete:
        # "4567" then "march 14 1988": the details may come over two replies.
        before = language.parse_credentials(dialogue.previous_user_text, today=today)
        found = language.Credentials(
            card_last4=found.card_last4 or before.card_last4,
            date_of_birth=found.date_of_birth or before.date_of_birth,
            postal_code=found.postal_code or before.postal_code,
        )
    if not (found.complete or (dialogue.asked_to_verify and found.any)):
        return None
    arguments = {"card_last4": found.card_last4}
    if found.date_of_birth:
        arguments["date_of_birth"] = found.date_of_birth.isoformat()
    if found.postal_code:
        arguments["postal_code"] = found.postal_code
    return arguments


def _questions(text: str, available: set[str], today: date) -> list[tuple[str, dict]]:
    """The questions asked beside verification details: a clause that only names a card
    ("my card ends 4567") is a detail, not a question about the card."""
    calls = []
    for clause in clauses(language.words_to_digits(language.normalize(text))):
        intent = best_intent(clause, available)
        if intent is None or intent.tool in (tool for tool, _ in calls):
            continue
        credentials = language.parse_credentials(clause, today=today)
        is_detail = credentials.any and not language.mentions(clause, *_SUMMARY_WORDS)
        if intent.tool == "get_credit_card_summary" and is_detail:
            continue
        calls.append((intent.tool, intent.arguments(clause, today)))
    return calls


def _after_verification(
    dialogue: Dialogue, available: set[str], today: date
) -> list[tuple[str, dict]]:
    """Once verified, answer what the caller asked: in the same message as their details,
    or in the message that made us ask for them (details may have taken a few replies)."""
    if dialogue.tools_called() != ["verify_identity"]:
        return []
    if not phrases.reports_verified(dialogue.tool_results()[-1]):
        return []
    texts = [dialogue.text]
    if dialogue.asked_to_verify:
        texts += dialogue.earlier_user_texts(_DETAIL_REPLIES)
    for text in texts:
        if calls := _questions(text, available - {"verify_identity"}, today):
            return calls
    return []


def _answers_a_question(text: str) -> bool:
    """A short reply that fills in what the assistant asked: an amount, a card, a day."""
    t = language.words_to_digits(language.normalize(text))
    return bool(
        language.parse_card_last4(text)
        or language.parse_amount(text)
        or re.fullmatch(r"\$?\d+(?:\.\d+)?", t.strip(" .!"))
        or language.mentions(t, *_ANSWER_WORDS, typo_tolerance=False)
    )


_ACTION_TOOLS = frozenset(
    {"freeze_card", "unfreeze_card", "report_card_lost", "pay_credit_card", "transfer_between_accounts"}
)
_ACTION_LOOKBACK = 6  # user messages back to the request behind a read-back


def _actions(text: str, available: set[str], today: date) -> set[str]:
    return {tool for tool, _ in detect(text, available=available, today=today) if tool in _ACTION_TOOLS}


def _another_action(dialogue: Dialogue, text: str, available: set[str], today: date) -> bool:
    """True when a reply that sounds like a yes asks for an action other than the one the
    caller asked for last: "now unfreeze it" after a freeze is a new request, not a yes
    (nor is it one when the freeze's read-back offered to unfreeze "any time")."""
    wanted = _actions(text, available, today)
    if not wanted:
        return False
    for earlier in dialogue.earlier_user_texts(_ACTION_LOOKBACK):
        if asked := _actions(earlier, available, today):
            return not wanted <= asked
    return False


def _latest_amount(calls: list[tuple[str, dict]], text: str) -> list[tuple[str, dict]]:
    """The amount the caller gives now replaces the one they gave before ("-200 dollars",
    then "200 dollars" when asked again)."""
    amount = language.parse_amount(text)
    if amount is None:
        return calls
    return [(name, {**args, "amount": float(amount)} if "amount" in args else args) for name, args in calls]


def _plan(
    dialogue: Dialogue, tools: Sequence[ToolMetadata], today: date
) -> list[tuple[str, dict]] | str:
    """The tool calls for the caller's latest message, or words to say without a tool."""
    text, available = dialogue.text, {tool.get_name() for tool in tools}
    if named := _client_tool_calls(text, tools):
        return [(name, {}) for name in named]
    if hang_up := _client_hang_up(text, tools):
        return [(hang_up, {})]
    if dialogue.asked_to_confirm or dialogue.reported_done:
        if language.is_affirmative(text) and not _another_action(dialogue, text, available, today):
            return [("confirm_pending_action", {})]
        if language.is_negative(text) and dialogue.asked_to_confirm:
            return [("cancel_pending_action", {})]
    if dialogue.offered_human and language.is_affirmative(text):
        return [("transfer_to_human", {})]
    if language.asks_for_card_secrets(text):
        return CARD_NUMBER_POLICY
    if "verify_identity" in available and (details := _verification(dialogue, today)):
        return [("verify_identity", details)]
    if (dialogue.asked_a_question or language.parse_card_last4(text)) and _answers_a_question(text):
        # "the minimum" answers "How much would you like to pay…?", and "the one ending 2222"
        # narrows the question before: read both together.
        earlier = detect(dialogue.previous_user_text, available=available, today=today)
        both = detect(f"{dialogue.previous_user_text} {text}", available=available, today=today)
        if earlier and both and both[0][0] == earlier[0][0]:
            return _latest_amount(both, text)
    return detect(text, available=available, today=today)


def reply(
    messages: Sequence[ChatMessage],
    *,
    tools: Sequence[ToolMetadata],
    bank_name: str,
    today: date | None = None,
    tool_choice: str | None = None,
    parallel_tool_calls: bool = True,
) -> ChatMessage:
    """The assistant's next message for this conversation.

    ``tool_choice`` ("required" or a tool's name, as the agent passes it on its first call)
    is honoured; ``parallel_tool_calls`` false makes at most one call.
    """
    today = today or timezone.localdate()
    last_user = last_index(messages, MessageRole.USER)
    if last_user is None or messages[last_user].content == OPENING_REQUEST:
        return ChatMessage(role=MessageRole.ASSISTANT, content=_greeting(bank_name))
    dialogue = Dialogue(messages=messages, last_user=last_user)
    available = {tool.get_name() for tool in tools}

    if results := dialogue.tool_results():
        if follow_up := _after_verification(dialogue, available, today):
            return _calls(follow_up, tools, text=dialogue.text, parallel=parallel_tool_calls)
        # A read-back is Fintalk's to say, after this reply: the model adds nothing to it.
        spoken = [result for result in results if not phrases.is_readback_note(result)]
        return ChatMessage(role=MessageRole.ASSISTANT, content=" ".join(spoken))

    plan = _plan(dialogue, tools, today)
    if tool_choice not in (None, "auto", "none"):
        plan = _forced(plan, tool_choice, tools, dialogue.text)
    if isinstance(plan, str):
        return ChatMessage(role=MessageRole.ASSISTANT, content=plan)
    if plan:
        return _calls(plan, tools, text=dialogue.text, parallel=parallel_tool_calls)
    return ChatMessage(role=MessageRole.ASSISTANT, content=_small_talk(dialogue.text, bank_name))


def _forced(
    plan: list[tuple[str, dict]] | str, tool_choice: str, tools: Sequence[ToolMetadata], text: str
) -> list[tuple[str, dict]] | str:
    """The plan, made to call a tool as ``tool_choice`` demands: the named one, or (for
    "required") the plan's own calls, else a client tool, else the bank's FAQ search."""
    names = {tool.get_name() for tool in tools}
    calls = plan if isinstance(plan, list) else []
    if tool_choice != "required":
        chosen = [(name, arguments) for name, arguments in calls if name == tool_choice]
        return chosen or ([(tool_choice, {})] if tool_choice in names else plan)
    if calls:
        return calls
    client = next((tool.get_name() for tool in tools if isinstance(tool, ClientToolMetadata)), None)
    if client is not None:
        return [(client, {})]
    if "search_bank_faq" in names:
        return [("search_bank_faq", {"question": text})]
    return plan


def _calls(
    calls: list[tuple[str, dict]], tools: Sequence[ToolMetadata], *, text: str = "", parallel: bool = True
) -> ChatMessage:
    """The tool calls, client tools' arguments completed from their schema and the caller's
    words; a question instead when a client tool's required arguments cannot be."""
    handoff = _client_handoff(tools)
    client_tools = {tool.get_name(): tool for tool in tools if isinstance(tool, ClientToolMetadata)}
    calls = [(handoff, {}) if name == "transfer_to_human" and handoff else (name, args) for name, args in calls]
    if not parallel:
        calls = calls[:1]
    blocks = []
    for name, arguments in calls:
        if name in client_tools:
            arguments, problems = client_call_arguments(client_tools[name], arguments, caller_text=text)
            if problems:
                return ChatMessage(role=MessageRole.ASSISTANT, content=client_call_question(client_tools[name], problems))
        blocks.append(_tool_call(name, arguments))
    return ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks)
