"""Filling a tool's arguments from the caller's words (one clause, already normalized, with
spoken numbers as digits). Every function returns only what it found: the tools ask for
whatever is missing."""

import re
from datetime import date

from agents import language

_ACCOUNT_NAME = (
    r"(?:[a-z'-]+ ){0,2}?(?:checking|savings|saver|current|account)(?: account)?"
    r"(?: ending(?: in| with)? \d{4})?"
)
_ACCOUNT = (
    rf"(?:my |the |our )?({_ACCOUNT_NAME}|(?:account |one )?ending(?: in| with)? \d{{4}}"
    r"|\d{4}|[a-z'-]+(?: [a-z'-]+)?)"
)
_FROM = re.compile(rf"\b(?:from|out of) {_ACCOUNT}")
_TO = re.compile(rf"\b(?:to|into|in) {_ACCOUNT}")
_NOT_AN_ACCOUNT = frozenset("it me them there today now please the my pay card".split())
_COMPARISON = re.compile(
    r"\b(over|above|more than|greater than|bigger than|at least|under|below|less than"
    r"|smaller than|at most) (?:\$|£|€)?(\d+(?:\.\d+)?)"
)
_SMALLER = ("under", "below", "less than", "smaller than", "at most")
_MERCHANT_AFTER = re.compile(r"\b(?:at|on|from|with|to) ((?:[a-z0-9&'.-]+ ?){1,3})")
_MERCHANT_BEFORE = re.compile(
    r"\b((?:[a-z0-9&'.-]+ ){1,2})"
    r"(?:purchases?|transactions?|charges?|orders?|payments?|spending|bills?)\b"
)
_NOT_A_MERCHANT = frozenset(
    """my the a an all any recent latest last this past previous card cards account accounts
    checking savings visa mastercard credit debit month week year day days today yesterday i
    me did much many what how spend spent show list of in for since between during over under
    above below more less than and ending total everything anything stuff things money have
    has were was is are big large small pending new old those that these them it some your
    our monthly each every about few couple several handful most""".split()
)
_STOP_AFTER_MERCHANT = frozenset(
    """last this in since between during over under above below for on from the past previous
    yesterday today more less and at with my ending card account checking savings so far ever
    recently lately before after by purchases transactions""".split()
)
_CARD_WORDS = ("card", "credit card", "visa", "mastercard", "amex")
_INCOME = ("paycheck", "pay check", "salary", "payroll", "wages", "direct deposit came")


def card_last4(clause: str) -> dict:
    """``card_last4`` when a card ending is named, not counting an account's ending."""
    for pattern in (_FROM, _TO):
        match = pattern.search(clause)
        if match and re.search(r"checking|savings|account", match[1]):
            clause = clause.replace(match[0], " ")
    last4 = language.parse_card_last4(clause)
    return {"card_last4": last4} if last4 else {}


def _account_words(found: str | None) -> str | None:
    if not found:
        return None
    found = found.strip()
    words = found.split()
    if not words or words[0] in _NOT_AN_ACCOUNT or found in _NOT_AN_ACCOUNT:
        return None
    if digits := re.search(r"\d{4}", found):
        return digits[0]
    for kind in ("checking", "savings", "current", "saver"):
        if kind in words:
            return found.replace(" account", "")
    return found


def accounts(clause: str) -> dict:
    """``from_account`` and ``to_account`` named as "from my savings to checking",
    "into my savings", "out of the account ending 3011"."""
    found = {}
    if (match := _FROM.search(clause)) and (name := _account_words(match[1])):
        found["from_account"] = name
    if (match := _TO.search(clause)) and (name := _account_words(match[1])):
        found["to_account"] = name
    return found


def amount(clause: str) -> dict:
    value = language.parse_amount(clause)
    return {"amount": float(value)} if value is not None else {}


def pay_option(clause: str) -> dict:
    options = (
        ("minimum", ("minimum", "min", "minimum due", "least")),
        ("statement", ("statement", "statement balance")),
        (
            "full",
            (
                "full",
                "in full",
                "entire",
                "whole",
                "everything",
                "total",
                "pay off",
                "current balance",
                "all of it",
            ),
        ),
    )
    for option, phrases in options:
        if language.mentions(clause, *phrases, typo_tolerance=False):
            return {"pay_option": option}
    return {}


def pay_on(clause: str, today: date) -> dict:
    day = language.parse_date(clause, today=today)
    return {"pay_on": day.isoformat()} if day and day > today else {}


def loan_kind(clause: str) -> dict:
    kinds = (
        ("home_equity", ("home equity", "heloc")),
        ("auto", ("auto", "car", "vehicle", "truck")),
        ("home", ("mortgage", "home loan", "house", "home")),
        ("student", ("student", "college", "tuition")),
        ("personal", ("personal",)),
    )
    for kind, phrases in kinds:
        if language.mentions(clause, *phrases):
            return {"kind": kind}
    return {}


def loan_terms(clause: str) -> dict:
    found = {}
    if (rate := language.parse_rate_percent(clause)) is not None:
        found["annual_rate_percent"] = float(rate)
    if (months := language.parse_term_months(clause)) is not None:
        found["term_months"] = months
    principal = language.parse_amount(clause)
    if principal is None:
        # "a 20000 loan": a bare number beside loan words is the amount borrowed.
        numbers = re.findall(
            r"(?<![\w.])(\d{3,9}(?:\.\d+)?)(?![\w.%])(?! ?(?:years?|months?|%|percent))", clause
        )
        principal = float(numbers[0]) if len(numbers) == 1 else None
    if principal is not None:
        found["amount"] = float(principal)
    return found


def account_type(clause: str) -> dict:
    for kind in ("checking", "savings"):
        if language.mentions(clause, kind, kind.rstrip("s")):
            return {"account_type": kind}
    return {}


def _merchant(clause: str) -> tuple[str, str] | None:
    """The merchant or category named, and the words that named it ("at amazon")."""
    if language.mentions(clause, *_INCOME, typo_tolerance=False):
        return "income", ""
    for pattern in (_MERCHANT_AFTER, _MERCHANT_BEFORE):
        for match in pattern.finditer(clause):
            words = match[1].split()
            while words and words[0] in _NOT_A_MERCHANT:
                words.pop(0)
            name = []
            for word in words:
                if word in _STOP_AFTER_MERCHANT or word.isdigit():
                    break
                name.append(word)
            if name and not all(word in _NOT_A_MERCHANT for word in name):
                merchant = " ".join(name).strip(".")
                said = match[0][: match[0].index(name[-1]) + len(name[-1])]
                return merchant, said
    return None


def transaction_filters(clause: str, today: date) -> dict:
    """Merchant, period, amount bounds and account of a transaction search."""
    found = {}
    if merchant := _merchant(clause):
        found["merchant"], said = merchant
        # "from starbucks between oct 1 and 15": the merchant is no part of the period.
        clause = clause.replace(said, " ", 1) if said else clause
    if period := language.parse_date_range(clause, today=today):
        found["start_date"], found["end_date"] = period[0].isoformat(), period[1].isoformat()
    for word, number in _COMPARISON.findall(clause):
        found["max_amount" if word in _SMALLER else "min_amount"] = float(number)
    if "min_amount" not in found and "max_amount" not in found:
        exact = language.parse_amount(clause)
        if exact is not None:
            found["min_amount"] = found["max_amount"] = float(exact)
    if last4 := language.parse_card_last4(clause):
        found["account"] = last4
    else:
        kinds = (("checking", ("checking",)), ("savings", ("savings",)), ("card", _CARD_WORDS))
        for kind, words in kinds:
            if language.mentions(clause, *words, typo_tolerance=False):
                found["account"] = kind
                break
    return found
