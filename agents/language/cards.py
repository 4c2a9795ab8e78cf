"""Which card the user means, by the last four digits they name."""

import re
import unicodedata

from agents.language.number_words import digits
from agents.language.text import normalize

CURRENCY_WORD = r"dollars?|bucks|usd|euros?|eur|pounds?|gbp|quid"

_LAST_FOUR = re.compile(r"\blast (?:four|4)\b")
_MASKED_NUMBER = re.compile(r"(?:[x*•·#]{2,}[\s-]*|(?:\.{3}|…)-?)(\d{4})(?!\d)")
_FOUR_DIGITS = (
    r"(?<![\d$£€.,])(?<![$£€] )(\d(?:[ -]?\d){3})"
    rf"(?!\d|[.,]\d| ?-?\d| ?%| ?(?:{CURRENCY_WORD}|percent|k|grand)\b)"
)
_CARD_WORD = r"(?:cards?|ending|ends|ended|lastfour|visa|mastercard|amex|discover|debit|credit)"
_FILLER = (
    r"(?:in|with|on|is|are|was|of|number|no|digits|the|my|that|which|it|its|it's|ending|ends|card)"
)
_CARD_ENDING = re.compile(rf"\b{_CARD_WORD}\b(?: {_FILLER}\b){{0,4}}[ :-]*{_FOUR_DIGITS}")
_ENDING_BEFORE_CARD = re.compile(rf"{_FOUR_DIGITS} (?:(?:visa|debit|credit) )?card\b")


def card_text(text: str) -> str:
    """``text`` with spoken numbers as digits and "last four" kept as one word, so that
    "last four four five six seven" names the ending 4567."""
    return digits(_LAST_FOUR.sub("lastfour", normalize(text)))


def card_ending_match(t: str) -> re.Match[str] | None:
    """Where a card ending is named in ``t`` (a ``card_text``); group 1 holds its digits."""
    return _CARD_ENDING.search(t) or _ENDING_BEFORE_CARD.search(t)


def parse_card_last4(text: str) -> str | None:
    """The last four digits of the card the user names, or None.

    Understands "card ending 4567", "ending in four five six seven", "the one ending with
    4 5 6 7", "last four 4567", "my visa 4567", "card 4567", "my 4567 card", "xxxx-4567" and
    "**** 4567". Four digits count only next to a card word (card, ending, last four, visa…)
    or a mask, so a year ("in 2025") or an amount ("$4567", "4567 dollars") is never taken.
    """
    if masked := _MASKED_NUMBER.search(unicodedata.normalize("NFKC", text).lower()):
        return masked[1]
    match = card_ending_match(card_text(text))
    return re.sub(r"\D", "", match[1]) if match else None


_SECRET_WORDS = (
    r"cvv2?|cvc2?|cid|csc|security code|pin(?: number| code)?|(?:3|4|three|four) digit code"
    r"|code on the back|expiration(?: date)?|expiry(?: date)?|exp date|verification code"
)
_SECRET = re.compile(rf"\b(?:{_SECRET_WORDS})\b")
_CARD_CONTEXT = r"(?:cards?|visa|mastercard|amex|discover|debit|credit)"
_WHOLE_NUMBER = re.compile(
    r"\b(?:full|whole|entire|complete|long|actual|real)\b(?: [a-z']+){0,4}? (?:numbers?|digits)\b"
    r"|\b(?:1[3-9]|all 1[3-9]) ?-?digits?\b"
    rf"|\bnumbers? (?:on|of|from) (?:the |my |your |this |that )?(?:front |back )?(?:of )?(?:the |my )?{_CARD_CONTEXT}\b"
    rf"|\b{_CARD_CONTEXT} numbers?\b(?! (?:end|ends|ending|ended|is \d{{4}}\b|are \d{{4}}\b))"
)


def asks_for_card_secrets(text: str) -> bool:
    """True when ``text`` asks for (or offers) what the bank never says or takes: a card's
    full number, its PIN, security code (CVV/CVC) or expiry date.

    "What's the CVV and the PIN for my card ending 4567?", "read me the full 16-digit
    number on my Visa", "what's the number on the front of my card", "what's my card
    number". Naming a card by its ending is not asking for its number: "my card number
    ends in 4567", "the last four of my card are 4567".
    """
    t = card_text(text)
    if _SECRET.search(t):
        return True
    if "lastfour" in t:
        return False
    found = _WHOLE_NUMBER.search(t)
    if found is None:
        return False
    return bool(re.search(_CARD_CONTEXT, t) or re.search(r"\d ?-?digit", found[0]))
