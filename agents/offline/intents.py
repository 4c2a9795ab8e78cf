"""What the caller is asking for, read from their words.

Each intent names the tool it needs, the phrases that signal it (typo-tolerant), and how
to fill the tool's arguments from the words. Scores decide between intents that share
words: the intent of the greatest ``weight`` that any of its phrases signals wins (asking
for a person, then how-to questions, then actions, then looking things up), then the one
with more signalling phrases, then more supporting words. ``unless`` phrases rule an
intent out ("when is my payment due" pays nothing). ``exact`` phrases are signals too, but
never read from a typo: "ending" is a typo away from "lending", "send" from "spend",
"lose" from "close" and "freeze" from "unfreeze".
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from django.utils import timezone

from agents import language
from agents.language.text import is_typo_of, phrases
from agents.offline import arguments as args


class Clause:
    """A clause's words, each with the phrase words it can stand for, so that an intent's
    phrases are matched without rescanning the text for each of them (``mentions`` does the
    same matching one phrase at a time)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.words = language.words(text)
        self._matches = [_stands_for(word) for word in self.words]
        self._anywhere = tuple(frozenset().union(*kinds) for kinds in zip(*self._matches)) or (
            frozenset(),
            frozenset(),
        )

    def has(self, phrase: str, *, typos: bool = True) -> bool:
        targets = language.words(phrase)
        which = 0 if typos else 1
        if not self._anywhere[which].issuperset(targets):
            return False
        for start in range(len(self.words) - len(targets) + 1 if targets else 0):
            if all(t in self._matches[start + i][which] for i, t in enumerate(targets)):
                return True
        return False


@lru_cache(maxsize=8192)
def _stands_for(word: str) -> tuple[frozenset[str], frozenset[str]]:
    """The phrase words ``word`` matches: with typos allowed, and exactly (plurals count)."""
    exact = {t for t in _vocabulary() if word == t or word in (t + "s", t + "es")}
    loose = exact | {t for t in _vocabulary() if is_typo_of(word, t)}
    return frozenset(loose), frozenset(exact)


@dataclass(frozen=True)
class Intent:
    tool: str
    strong: tuple[str, ...]
    weak: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()
    arguments: Callable[[str, date], dict] = lambda clause, today: {}
    weight: int = 3
    unless: tuple[str, ...] = ()
    needs: Callable[[str], bool] = lambda clause: True

    def score(self, clause: Clause) -> tuple[int, int, int]:
        """(weight, signalling phrases, supporting words); all zero when it does not apply."""
        strong = sum(1 for phrase in self.strong if clause.has(phrase)) + sum(
            1 for phrase in self.exact if clause.has(phrase, typos=False)
        )
        if not strong or not self.needs(clause.text):
            return (0, 0, 0)
        if any(clause.has(phrase, typos=False) for phrase in self.unless):
            return (0, 0, 0)
        weak = sum(1 for phrase in self.weak if clause.has(phrase))
        return (self.weight, strong, weak)


def _has_number(clause: str) -> bool:
    return bool(re.search(r"\d", clause))


# "a new one", "the one ending 2222": "one" standing for a thing, not an amount.
_PRONOUN_ONE = re.compile(
    r"\b(?:a new|new|the|this|that|which|another|other|old|same|right|wrong|first|last) 1\b"
    r"(?! ?(?:\$|dollars?|bucks|cents?|percent|%|hundred|thousand|k\b))"
)


def _moves_between_accounts(clause: str) -> bool:
    return _has_number(_PRONOUN_ONE.sub(" ", clause)) or language.mentions(
        clause, "checking", "savings", "saver", "account", "accounts", "money", "funds"
    )


def _is_a_loan_with_numbers(clause: str) -> bool:
    return _has_number(clause) and language.mentions(
        clause,
        "loan",
        "borrow",
        "borrowing",
        "mortgage",
        "financing",
        "finance",
        "apr",
        "percent",
        "%",
        "years",
        "months",
        "rate",
    )


_RULE_WORDS = ("penalty", "penalties", "prepayment", "prepay", "fee", "fees")
_RATE_WORDS = ("rate", "rates", "interest", "apy", "yield")
_DEPOSIT_WORDS = (
    "savings", "saving", "checking", "account", "accounts", "deposit", "deposits", "cd", "cds",
    "apy", "yield", "high yield", "rainy day",
)  # fmt: skip
_LOAN_WORDS = ("loan", "loans", "mortgage", "mortgages", "heloc", "borrow", "financing", "refinance")


def _asks_about_terms(clause: str) -> bool:
    """A question about the bank's terms — what something costs, what an account pays, a
    rule such as paying a loan off early — rather than about the caller's own money.
    Loan rates and loan calculations have tools of their own."""
    rules = language.mentions(clause, *_RULE_WORDS, typo_tolerance=False)
    if rules:
        return True
    if _is_a_loan_with_numbers(clause):
        return False  # "how much would a 20000 loan cost a month": a calculation
    loans = language.mentions(clause, *_LOAN_WORDS, typo_tolerance=False)
    if language.mentions(clause, "early", typo_tolerance=False):
        return loans  # "pay my loan off early" is a rule; "pay my card early" a payment
    if language.mentions(clause, *_RATE_WORDS, typo_tolerance=False):
        return language.mentions(clause, *_DEPOSIT_WORDS) and not loans
    return True


def _transfer_arguments(clause: str, today: date) -> dict:
    return {**args.amount(clause), **args.accounts(clause)}


def _payment_arguments(clause: str, today: date) -> dict:
    found = {**args.pay_option(clause), **args.card_last4(clause), **args.pay_on(clause, today)}
    if "pay_option" not in found:
        found.update(args.amount(clause))
    if source := args.accounts(clause).get("from_account"):
        found["from_account"] = source
    return found


def _lost_arguments(clause: str, today: date) -> dict:
    stolen = language.mentions(
        clause, "stolen", "stole", "steal", "theft", "robbed", "pickpocketed"
    )
    return {**args.card_last4(clause), **({"stolen": True} if stolen else {})}


INTENTS: tuple[Intent, ...] = (
    Intent(
        tool="search_bank_faq",
        strong=phrases(
            """how do i, how can i, how to, how does, how long, what happens if, fee, fees,
            charge for, hours, open, opening, branch, branches, atm, atms,
            routing number, routing, zelle, wire, wires, overdraft, direct deposit, holiday,
            holidays, location, locations, address, appointment, dispute, order checks,
            checkbook, check deposit, deposit a check, mobile deposit, apply, application,
            travel, traveling, travelling, abroad, apy, interest on savings, savings rate,
            rate on savings, savings interest, rate on my savings, daily limit, transfer limit,
            paper statement"""
        ),
        exact=phrases("statements, activate, close, closed"),
        arguments=lambda clause, today: {"question": clause},
        weight=5,
    ),
    Intent(
        tool="search_bank_faq",
        strong=phrases(
            """cost, costs, price, prices, pricing, penalty, penalties, prepayment, prepay,
            early, apy, yield, high yield, interest, interest rate, interest rates, rate, rates,
            minimum deposit, minimum balance, how much is a, how much is the, how much does a,
            how much does it, what does a, what does it, is it free, is there a charge"""
        ),
        arguments=lambda clause, today: {"question": clause},
        weight=5,
        needs=_asks_about_terms,
        unless=phrases(
            """did i, have i, i paid, i earned, i spent, i owe, do i owe, my balance,
            my balances, how much do i have, how much have i"""
        ),
    ),
    Intent(
        tool="transfer_to_human",
        strong=phrases(
            """human, real person, live person, a person, someone, somebody, representative,
            rep, operator, live agent, an agent, customer service, colleague, supervisor,
            manager, transfer me, connect me, put me through, speak to, speak with, talk to,
            talk with"""
        ),
        weight=6,
        unless=phrases(
            """in person, stole, stolen, took, taken, used my, charged, hacked, got into, broke
            into"""
        ),
    ),
    Intent(
        tool="unfreeze_card",
        strong=phrases("unlock, unblock, turn back on, turn on, defrost, un freeze, back on"),
        exact=phrases("unfreeze, unpause, reactivate, thaw, enable"),
        weak=phrases("card, visa, mastercard"),
        arguments=lambda clause, today: args.card_last4(clause),
        weight=4,
    ),
    Intent(
        tool="freeze_card",
        strong=phrases("freeze, frozen, turn off, suspend, put a hold"),
        exact=phrases("lock, block, pause, deactivate, disable"),
        weak=phrases("card, visa, mastercard, misplaced"),
        arguments=lambda clause, today: args.card_last4(clause),
        weight=4,
        # A stolen card is reported (blocked for good, replaced), not paused.
        unless=phrases(
            "is frozen, is my card frozen, why is, stolen, stole, theft, robbed, pickpocketed"
        ),
    ),
    Intent(
        tool="report_card_lost",
        strong=phrases(
            """lost, lose, stolen, stole, missing, can't find, cannot find, cant find,
            replacement, replace, new card, new one, theft, robbed, pickpocketed"""
        ),
        weak=phrases("card, wallet, purse, stolen"),
        arguments=_lost_arguments,
        weight=4,
    ),
    Intent(
        tool="pay_credit_card",
        strong=phrases("pay, pay off, make a payment, schedule a payment"),
        exact=("paying",),
        weak=phrases("card, credit card, visa, mastercard, minimum, statement, balance"),
        arguments=_payment_arguments,
        weight=4,
        unless=phrases(
            """when, how much do i, how much should i, have i paid, did i pay, i paid,
            to savings, into savings, into my savings, to my savings, into checking,
            to my checking"""
        ),
    ),
    Intent(
        tool="transfer_between_accounts",
        strong=phrases("transfer, move, send, put, shift, sweep"),
        weak=phrases("checking, savings, from, into, account"),
        arguments=_transfer_arguments,
        weight=4,
        needs=_moves_between_accounts,
        unless=("transfer call",),
    ),
    Intent(
        tool="check_loan_prequalification",
        strong=phrases(
            """prequalify, pre qualify, prequalified, pre qualified, prequalification,
            pre qualification, qualify, eligible, eligibility, approved, how much can i borrow,
            can i borrow, could i borrow, can i get a loan, could i get a loan, would i get,
            afford"""
        ),
        weak=phrases("loan, mortgage, borrow"),
        arguments=lambda clause, today: {**args.loan_kind(clause), **args.amount(clause)},
        weight=4,
    ),
    Intent(
        tool="calculate_loan_payment",
        strong=phrases(
            """monthly payment, payment, payments, per month, a month, each month, monthly,
            calculate, calculator, estimate, what would i pay, how much would, cost"""
        ),
        weak=phrases("loan, borrow, mortgage, rate, apr, years, months, over"),
        arguments=lambda clause, today: {**args.loan_terms(clause), **args.loan_kind(clause)},
        weight=4,
        needs=_is_a_loan_with_numbers,
    ),
    Intent(
        tool="find_transactions",
        strong=phrases(
            """transactions, transaction, purchases, purchase, bought, buy,
            activity, history, deposits, withdrawals, payments to, paid to, did i pay,
            have i paid, i paid, paycheck, pay check, salary, payroll, orders"""
        ),
        exact=phrases("spending, spend, spent, charges, charged"),
        weak=phrases("last, month, week, since, between, at, amazon"),
        arguments=args.transaction_filters,
        weight=4,
    ),
    Intent(
        tool="get_credit_card_summary",
        strong=phrases(
            """credit card, card, cards, visa, mastercard, amex, minimum payment,
            statement balance, due date, payment due, available credit, credit limit,
            how much do i owe, amount due"""
        ),
        weak=phrases("balance, owe, due, statement"),
        arguments=lambda clause, today: args.card_last4(clause),
    ),
    Intent(
        tool="list_loan_products",
        strong=phrases(
            """loan, loans, mortgage, mortgages, borrow, borrowing, financing, finance,
            refinance, heloc, interest rate, interest rates"""
        ),
        exact=("lending",),
        weak=phrases("apr, rate, rates, options, offer"),
        arguments=lambda clause, today: args.loan_kind(clause),
    ),
    Intent(
        tool="get_account_balances",
        strong=phrases(
            """balance, balances, checking, savings, how much money, how much do i have, funds,
            account, accounts"""
        ),
        weak=phrases("money, have, left"),
        arguments=lambda clause, today: args.account_type(clause),
    ),
)

_CLAUSE_BREAKS = (" and also ", " and then ", " and ", " also ", " plus ", "; ", "? ")
# "between march 1 and march 15", "fifty dollars and 20 cents": an "and" inside one thing.
_OPEN_RANGE = re.compile(r"\bbetween\b(?!.*\b(?:and|to|through)\b)")
_CENTS_NEXT = re.compile(r"^\d{1,2} cents?\b")


def _split(clauses: list[str], separator: str) -> list[str]:
    parts: list[str] = []
    for clause in clauses:
        pieces = clause.split(separator)
        merged = [pieces[0]]
        for piece in pieces[1:]:
            keep_together = separator.strip() == "and" and (
                _OPEN_RANGE.search(merged[-1]) or _CENTS_NEXT.match(piece)
            )
            if keep_together:
                merged[-1] = f"{merged[-1]}{separator}{piece}"
            else:
                merged.append(piece)
        parts.extend(merged)
    return parts


def clauses(text: str) -> list[str]:
    """``text`` (normalized, numbers as digits) cut where a new request starts."""
    parts = [text]
    for separator in _CLAUSE_BREAKS:
        parts = _split(parts, separator)
    return [part.strip() for part in parts if part.strip()]


@lru_cache(maxsize=1)
def _vocabulary() -> frozenset[str]:
    phrases = (p for i in INTENTS for p in (*i.strong, *i.weak, *i.exact, *i.unless))
    return frozenset(word for phrase in phrases for word in language.words(phrase))


def best_intent(clause: str, available: set[str]) -> Intent | None:
    read = Clause(clause)
    best, best_score = None, (0, 0, 0)
    for intent in INTENTS:
        if intent.tool in available and (score := intent.score(read)) > best_score:
            best, best_score = intent, score
    return best


def detect(text: str, *, available: set[str], today: date | None = None) -> list[tuple[str, dict]]:
    """The tool calls a message asks for, in order: one per clause, no tool twice."""
    today = today or timezone.localdate()
    text = language.words_to_digits(language.normalize(text))
    calls: list[tuple[str, dict]] = []
    for clause in clauses(text):
        best = best_intent(clause, available)
        if best is not None and best.tool not in (tool for tool, _ in calls):
            calls.append((best.tool, best.arguments(clause, today)))
    return calls
