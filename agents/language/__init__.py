"""Reading what a bank's customers type or say: numbers, amounts, card endings, dates, phones.

The offline model fills tool arguments with these helpers. Its input is often a voice
transcript — lowercase, unpunctuated, numbers spoken as words, typos — so every parser
normalizes the text and rewrites spoken numbers as digits before it looks for anything.
Everything here is pure and deterministic: no Django, no clock (callers pass ``today``).
"""

from agents.language.answers import is_affirmative, is_negative
from agents.language.cards import asks_for_card_secrets, parse_card_last4
from agents.language.credentials import Credentials, SaidDetails, parse_credentials, said_details
from agents.language.dates import parse_date, parse_date_range
from agents.language.money import (
    AmountRefused,
    parse_amount,
    parse_amount_argument,
    parse_rate_percent,
    parse_term_months,
)
from agents.language.phones import find_phone_number, phone_normalize
from agents.language.number_words import words_to_digits
from agents.language.text import mentions, normalize, words

__all__ = [
    "AmountRefused",
    "asks_for_card_secrets",
    "Credentials",
    "SaidDetails",
    "is_affirmative",
    "is_negative",
    "parse_credentials",
    "find_phone_number",
    "mentions",
    "normalize",
    "parse_amount",
    "parse_amount_argument",
    "parse_card_last4",
    "parse_date",
    "parse_date_range",
    "parse_rate_percent",
    "parse_term_months",
    "phone_normalize",
    "said_details",
    "words",
    "words_to_digits",
]
