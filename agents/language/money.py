"""Money words: amounts, loan terms and interest rates."""

import re
from decimal import Decimal

from agents.language.cards import CURRENCY_WORD, card_ending_match, card_text
from agents.language.number_words import MONTHS, digits

_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
_SIGNED_AMOUNT = re.compile(rf"(?:[$£€]|\b(?:usd|eur|gbp)\b) ?({_NUMBER})(?: ?(k|grand)\b)?")
_WORDED_AMOUNT = re.compile(
    rf"(?<![\w.,])({_NUMBER}) ?(?:(k|grand)\b(?: (?:{CURRENCY_WORD})\b)?|(?:{CURRENCY_WORD})\b)")
_CENTS = re.compile(r"(?<![\w.,])(\d{1,2}) cents?\b")
_AND_CENTS = re.compile(r" (?:and )?(\d{1,2}) cents?\b")
_BARE_NUMBER = re.compile(
    rf"(?<![\w.,/:-])({_NUMBER})(?![\w/:%-]|[.,]\d| (?:percent|days?|weeks?|months?|years?|yrs?"
    r"|mos?|am|pm|times|hours?|minutes?|o'clock|%)\b)")
_MONEY_VERB = re.compile(
    r"\b(?:pay|paying|send|sending|transfer\w*|move|moving|borrow\w*|lend|loan|wire|withdraw\w*"
    r"|deposit\w*|take out)\b")
_PHONE_LIKE = re.compile(r"\+?\d(?:[ ().-]{0,2}\d){9,}")
_YEAR = re.compile(r"(?:19|20)\d\d")
_YEAR_PREPOSITIONS = {"in", "since", "from", "until", "by", "of", "before", "after", "during"}
_CENT = Decimal("0.01")
_LARGEST = Decimal(10) ** 15  # beyond any account; also keeps quantize() within precision
_LONGEST_TERM = 1200  # months

_TERM = re.compile(
    r"(?<!last )(?<!past )(?<!previous )(?<![\w.])(\d+(?:\.\d+)?)[ -]?(years?|yrs?|months?|mos?)\b"
    r"(?! ago)")
_ONE_TERM = re.compile(r"\b(?:for|over|within) an? (year|month)\b")
_PERCENT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?|\.\d+) ?(?:%|percent\b|per cent\b|pct\b)")
_RATE_OF = re.compile(
    r"\b(?:apr|apy|rate|interest)(?: (?:of|at|is|around|about|=|:))? ?(\d+(?:\.\d+)?)"
    rf"(?!\d|[.,]\d| ?(?:years?|months?|days?|k|{CURRENCY_WORD})\b)")


def _money(number: str, thousands: str | None = None) -> Decimal | None:
    value = Decimal(number.replace(",", "")) * (1000 if thousands else 1)
    return value.quantize(_CENT) if value < _LARGEST else None


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _bare_numbers(t: str) -> list[str]:
    """Numbers that could only be amounts: not card endings, phones, dates, terms or rates."""
    if card := card_ending_match(t):
        t = _blank(t, *card.span(1))
    for phone in _PHONE_LIKE.finditer(t):
        if sum(c.isdigit() for c in phone[0]) >= 10:
            t = _blank(t, *phone.span())
    numbers = []
    for m in _BARE_NUMBER.finditer(t):
        before, after = t[:m.start()].split()[-1:], t[m.end():].split()[:1]
        if (before and before[0] in MONTHS) or (after and after[0] in MONTHS):
            continue
        if before and before[0] in _YEAR_PREPOSITIONS and _YEAR.fullmatch(m[1]):
            continue
        numbers.append(m[1])
    return numbers


_NEGATIVE_BEFORE = re.compile(r"(?:[-\u2212\u2013\u2014]|\bminus|\bnegative) ?[$£€]? ?$")


def _signed(amount: Decimal | None, t: str, start: int) -> Decimal | None:
    """``amount`` negated when the user put a minus before it ("-200", "minus $50")."""
    if amount is not None and _NEGATIVE_BEFORE.search(t[:start]):
        return -amount
    return amount


def parse_amount(text: str) -> Decimal | None:
    """The amount of money the user names, to the cent, or None.

    A minus before it ("-200 dollars", "−$50", "minus 200") makes it negative, so that
    the tool refuses it and asks again instead of moving the opposite amount.

    Amounts with a currency marker win, the first one if several: "$1,250.50", "1250
    dollars", "250 bucks", "two hundred fifty dollars", "fifty dollars and twenty cents",
    "1.2k", "5 grand", "£300", "EUR 40", "30 cents". A bare number is accepted only when it
    is the only one left once card endings, phone numbers, dates, terms and rates are set
    aside, and the user is paying, sending, transferring or borrowing ("pay 300", "borrow
    20000 over 5 years").
    """
    t = card_text(text)
    marked = [m for pattern in (_SIGNED_AMOUNT, _WORDED_AMOUNT) for m in pattern.finditer(t)]
    if marked:
        first = min(marked, key=lambda m: m.start())
        amount = _money(first[1], first[2])
        if amount is not None and (cents := _AND_CENTS.match(t, first.end())):
            amount += Decimal(cents[1]).scaleb(-2)
        return _signed(amount, t, first.start())
    if cents := _CENTS.search(t):
        return Decimal(cents[1]).scaleb(-2)
    numbers = _bare_numbers(t)
    if len(numbers) == 1 and _MONEY_VERB.search(t):
        return _signed(_money(numbers[0]), t, t.find(numbers[0]))
    return None


def parse_term_months(text: str) -> int | None:
    """A loan or deposit term in months, or None: "36 months" → 36, "5 years", "five year" and
    "5-year" → 60, "30 year mortgage" → 360, "for a year" → 12, "two and a half years" → 30.
    Periods in the past ("last 3 months", "2 years ago") are not terms."""
    t = digits(text)
    if match := _TERM.search(t):
        count, unit = Decimal(match[1]), match[2]
    elif match := _ONE_TERM.search(t):
        count, unit = Decimal(1), match[1]
    else:
        return None
    months = int((count * 12 if unit.startswith("y") else count).to_integral_value())
    return months if 0 < months <= _LONGEST_TERM else None


def parse_rate_percent(text: str) -> Decimal | None:
    """An interest rate in percent, or None: "6.5%", "at 6.5 percent", "six point five
    percent", "apr of 7", "interest rate is 4.25", "seven and a half percent" → 7.5.
    Rates above 100% are not rates."""
    t = digits(text)
    match = _PERCENT.search(t) or _RATE_OF.search(t)
    if match is None:
        return None
    rate = Decimal(match[1])
    return rate if rate <= 100 else None


_PLAIN_AMOUNT = re.compile(r"[$£€]?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?")
_MINUS_SIGNS = "-\u2212\u2010\u2011\u2012\u2013\u2014\ufe63\uff0d"  # ASCII, Unicode minus, dashes


class AmountRefused(ValueError):
    """A tool argument that is no amount of money Fintalk will act on. ``reason`` is one of
    ``negative``, ``zero``, ``not_finite``, ``exponent``, ``too_precise``, ``too_large``
    (beyond any account) or ``not_a_number``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_amount_argument(value: object) -> Decimal | None:
    """An amount of money from a tool argument, strictly: None when it is missing.

    Accepts a JSON number or a plain decimal string — digits, an optional currency sign,
    thousands commas, at most two decimals ("250", "250.75", "$1,200.50", 35.0). Raises
    ``AmountRefused`` for a negative amount (any minus sign, Unicode minus and dashes
    included), zero, NaN or Infinity, exponent forms ("1e5"), more than two decimals, or
    anything else; never guesses what a malformed amount meant.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise AmountRefused("not_a_number")
    if isinstance(value, (int, float, Decimal)):
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite():
            raise AmountRefused("not_finite")
        if "e" in str(value).lower() and not isinstance(value, int):
            raise AmountRefused("exponent")
        return _positive_cents(number)
    if not isinstance(value, str):
        raise AmountRefused("not_a_number")
    text = value.strip()
    lowered = text.lower()
    if any(sign in text for sign in _MINUS_SIGNS) or text.startswith("("):
        raise AmountRefused("negative")
    if "nan" in lowered or "inf" in lowered:
        raise AmountRefused("not_finite")
    if re.search(r"\d\s*e\s*[+]?\d", lowered):
        raise AmountRefused("exponent")
    match = _PLAIN_AMOUNT.fullmatch(text)
    if match is None:
        raise AmountRefused("not_a_number")
    if match[2] is not None and len(match[2]) > 2:
        raise AmountRefused("too_precise")
    return _positive_cents(Decimal(text.lstrip("$£€").replace(",", "")))


def _positive_cents(number: Decimal) -> Decimal:
    if number < 0:
        raise AmountRefused("negative")
    if number == 0:
        raise AmountRefused("zero")
    if number >= _LARGEST:
        raise AmountRefused("too_large")
    if number != number.quantize(_CENT):
        raise AmountRefused("too_precise")
    return number.quantize(_CENT)
