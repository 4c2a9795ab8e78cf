"""Phone numbers written or spoken in a message, in E.164 form."""

import re

import phonenumbers

from agents.language.cards import CURRENCY_WORD
from agents.language.spoken import digits

_POSSIBLE = phonenumbers.Leniency.POSSIBLE
_WHOLE_NUMBER = phonenumbers.ValidationResult.IS_POSSIBLE  # not IS_POSSIBLE_LOCAL_ONLY
_SPOKEN_PLUS = re.compile(r"\bplus ?(?=\d)")
_DIGIT_RUN = re.compile(r"\+?\d(?:[ ().,-]{0,3}\d)*")
_GROUPED_THOUSANDS = re.compile(r"\d,\d{3}(?:,|$)")
_CURRENCY_AFTER = re.compile(rf" ?(?:{CURRENCY_WORD}|k|grand)\b")


def _is_money(t: str, start: int, end: int) -> bool:
    """True when the digits at ``t[start:end]`` are an amount: "$1,250,000,000", "2500000000
    dollars"."""
    return (
        t[max(start - 2, 0):start].strip()[-1:] in ("$", "£", "€")
        or _GROUPED_THOUSANDS.search(t[start:end]) is not None
        or _CURRENCY_AFTER.match(t, end) is not None
    )


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def find_phone_number(text: str, *, region: str) -> str | None:
    """The phone number written or spoken in ``text``, in E.164 form, or None.

    "my number is 415 555 0101", "(415) 555-0101", "+44 20 7946 0958", "it's four one five
    five five five zero one zero one", "plus four four…". A number without a country code
    is read as one of ``region`` (ISO 3166, e.g. "US"). Any possible number is accepted —
    fictional 555-01xx numbers too — but never a local-only fragment ("555 0101"), a card
    ending or an amount.
    """
    t = _SPOKEN_PLUS.sub("+", digits(text))
    region = region.upper()
    for match in phonenumbers.PhoneNumberMatcher(t, region, leniency=_POSSIBLE):
        reason = phonenumbers.is_possible_number_with_reason(match.number)
        if reason == _WHOLE_NUMBER and not _is_money(t, match.start, match.end):
            return _e164(match.number)
    for run in _DIGIT_RUN.finditer(t):  # groups the matcher will not join: "415, 555, 0101"
        number = re.sub(r"[^\d+]", "", run[0])
        if not 10 <= len(number.lstrip("+")) <= 15 or _is_money(t, run.start(), run.end()):
            continue
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(parsed):
            return _e164(parsed)
    return None
