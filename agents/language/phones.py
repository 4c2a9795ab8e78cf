"""Phone numbers as callers and channels write or say them, in E.164 form.

``phone_normalize`` reads a number given on its own (Vapi's ``customer.number``, the API's
``phone_number``); ``find_phone_number`` finds one in what a caller wrote or said. Both
accept any *possible* number — the right length for its country, so fictional 555-01xx
numbers work — and refuse a local-only fragment, which does not say whose phone it is.
"""

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, ValidationResult

from agents.language.cards import CURRENCY_WORD
from agents.language.number_words import digits

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


# "00" starts an international number across most of the world, but not in the US
# ("011"), where the library would read "0044 20…" as a national number of the right
# length. People type the prefix they know, so a leading "00" is read as "+" first.
_ITU_INTERNATIONAL_PREFIX = "00"


def phone_normalize(raw: str, *, region: str) -> str | None:
    """Return ``raw`` in E.164 form ("+14155550101"), or None if it cannot be a number.

    ``region`` (ISO 3166 alpha-2, e.g. "US") reads numbers written without a country
    code. A *possible* number is enough — the right length for its country — so that
    fictional ranges such as 555-01xx work; a number dialable only locally (no area
    code) is refused, since it does not say whose phone it is.
    """
    candidates = [raw]
    stripped = raw.strip()
    if stripped.startswith(_ITU_INTERNATIONAL_PREFIX):
        candidates.insert(0, "+" + stripped[len(_ITU_INTERNATIONAL_PREFIX) :])
    for candidate in candidates:
        number = _parse_possible(candidate, region=region)
        if number is not None:
            return _e164(number)
    return None


def _parse_possible(raw: str, *, region: str) -> PhoneNumber | None:
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException:
        return None
    reason = phonenumbers.is_possible_number_with_reason(number)
    return number if reason == ValidationResult.IS_POSSIBLE else None


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
