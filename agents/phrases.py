"""Words two parts of Fintalk rely on: the tools say them, the offline model recognises them.

The offline model reads a short reply ("yes", "4567, March 14 1988") by what the assistant
said just before it, so the tools' wording is a contract between modules. It lives here,
once: a tool builds its sentence from these, the offline model (``agents.offline``)
recognises it with the predicates below, and ``tests/agents/test_phrases.py`` renders every
tool sentence and checks that it is recognised. Rewording a sentence here changes both
sides together; copying one as a literal elsewhere fails that test.

These are hints for choosing a tool only — anyone can type them into a resent history —
so no check of what is allowed ever depends on them: the tools check the server's records.
"""

# The question every read-back ends with; "say yes to confirm" marks it.
CONFIRM_PROMPT = "Shall I go ahead? Say yes to confirm, or no to cancel."
_CONFIRM_MARKER = "say yes to confirm"
# What a done action's sentence ends with, before its reference number.
_DONE_MARKER = "your reference number is"
# What a caller is asked for to verify; also in every sentence that asks for it.
ASK_VERIFICATION = "the last four digits of one of your cards, and your date of birth or ZIP code"
# The offer of a human; a "yes" after it hands the caller over.
OFFER_HUMAN = "transfer you to a colleague"
# How a successful verification's tool result ends.
VERIFIED = "you're verified."
# How an action tool's result tells the model that Fintalk reads the action back itself.
_READBACK_NOTE = (
    "Fintalk reads this back to the caller itself, word for word, right after your reply, "
    "and asks them to confirm; do not repeat it and do not ask anything else:"
)


def readback(*, summary: str, reference: str) -> str:
    """What the caller hears before they can confirm an action, from Fintalk's code:
    ``summary`` as ``describe`` words it ("move $200.00 from your Checking ending 1234 to
    your Savings ending 9876 today"), the action's reference, and the question."""
    return f"To confirm, request {reference}: I'll {summary}. {CONFIRM_PROMPT}"


def readback_note(text: str) -> str:
    """An action tool's result for the model: the read-back the caller will hear."""
    return f"{_READBACK_NOTE} {text}"


def done(sentence: str, *, reference: str) -> str:
    """What the caller hears once an action is done: ``sentence`` and its reference."""
    return f"{sentence} Your reference number is {reference}."


def verified(first_name: str) -> str:
    return f"Thank you, {first_name}, {VERIFIED}"


def is_readback_note(tool_result: str) -> bool:
    """The tool's result is a read-back Fintalk delivers itself (the model says nothing)."""
    return tool_result.startswith(_READBACK_NOTE)


def asks_to_confirm(said: str) -> bool:
    return _CONFIRM_MARKER in said.lower()


def reports_done(said: str) -> bool:
    return _DONE_MARKER in said.lower()


def asks_to_verify(said: str) -> bool:
    return ASK_VERIFICATION.lower() in said.lower()


def offers_human(said: str) -> bool:
    return OFFER_HUMAN.lower() in said.lower()


def reports_verified(tool_result: str) -> bool:
    return tool_result.rstrip().endswith(VERIFIED)
