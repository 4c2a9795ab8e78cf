"""What the caller is asking for, read from their words.

Each intent names the tool it needs, the phrases that signal it (typo-tolerant), and how
to fill the tool's arguments from the words. Scores decide between intents that share
words ("credit card balance" is about the card, not the bank account).
"""

from collections.abc import Callable
from dataclasses import dataclass

from agents import language


@dataclass(frozen=True)
class Intent:
    tool: str
    strong: tuple[str, ...]
    weak: tuple[str, ...] = ()
    arguments: Callable[[str], dict] = lambda text: {}

    def score(self, text: str) -> int:
        strong = sum(3 for phrase in self.strong if language.mentions(text, phrase))
        if not strong:
            return 0
        return strong + sum(1 for phrase in self.weak if language.mentions(text, phrase))


def _loan_arguments(text: str) -> dict:
    kinds = (
        ("home_equity", ("home equity", "heloc")),
        ("auto", ("auto", "car", "vehicle")),
        ("home", ("mortgage", "home loan", "house")),
        ("student", ("student", "college", "tuition")),
        ("personal", ("personal",)),
    )
    for kind, phrases in kinds:
        if language.mentions(text, *phrases):
            return {"kind": kind}
    return {}


def _account_arguments(text: str) -> dict:
    for kind in ("checking", "savings"):
        if language.mentions(text, kind, kind.rstrip("s")):
            return {"account_type": kind}
    return {}


def _card_arguments(text: str) -> dict:
    last4 = language.parse_card_last4(text)
    return {"card_last4": last4} if last4 else {}


INTENTS: tuple[Intent, ...] = (
    Intent(
        tool="get_credit_card_summary",
        strong=(
            "credit card", "card", "cards", "visa", "mastercard", "amex",
            "minimum payment", "statement balance", "due date", "payment due",
            "available credit", "credit limit", "how much do i owe", "amount due",
        ),
        weak=("balance", "owe", "due", "statement"),
        arguments=_card_arguments,
    ),
    Intent(
        tool="list_loan_products",
        strong=(
            "loan", "loans", "mortgage", "mortgages", "borrow", "borrowing", "lending",
            "financing", "finance", "refinance", "heloc", "interest rate", "interest rates",
        ),
        weak=("apr", "rate", "rates", "options", "offer"),
        arguments=_loan_arguments,
    ),
    Intent(
        tool="get_account_balances",
        strong=(
            "balance", "balances", "checking", "savings", "how much money", "how much do i have",
            "funds", "account", "accounts",
        ),
        weak=("money", "have", "left"),
        arguments=_account_arguments,
    ),
)

_CLAUSE_BREAKS = (" and also ", " and then ", " and ", " also ", " plus ", "; ", "? ")


def _clauses(text: str) -> list[str]:
    clauses = [text]
    for separator in _CLAUSE_BREAKS:
        clauses = [part for clause in clauses for part in clause.split(separator)]
    return [clause for clause in clauses if clause.strip()]


def detect(text: str, *, available: set[str]) -> list[tuple[str, dict]]:
    """The tool calls a message asks for, in order: one per clause, no tool twice."""
    text = language.words_to_digits(language.normalize(text))
    calls: list[tuple[str, dict]] = []
    for clause in _clauses(text):
        best = max(
            (intent for intent in INTENTS if intent.tool in available),
            key=lambda intent: intent.score(clause),
            default=None,
        )
        if best is None or best.score(clause) == 0:
            continue
        if best.tool not in (tool for tool, _ in calls):
            calls.append((best.tool, best.arguments(clause)))
    return calls
