"""Identifiers Fintalk makes up (completion ids, tool-call ids, request ids).

A random hex id can hold a run of 13 to 19 decimal digits that passes the Luhn check
(about 2 in 1,000 of ``chatcmpl-`` + 32 hex digits do). Everything Fintalk stores or logs
goes through the card-number masker (``fintalk.masking``), which would turn that run into
"card ending NNNN": the conversation log would then hold an id nobody can look the turn up
by. So an id is drawn again until the masker leaves it as it is.
"""

import uuid

from fintalk.masking import mask_card_numbers


def new_id(prefix: str = "", *, hex_digits: int = 32) -> str:
    """``prefix`` followed by ``hex_digits`` random hex digits (at most 32), never
    containing what ``mask_card_numbers`` would take for a card number."""
    while True:
        candidate = f"{prefix}{uuid.uuid4().hex[:hex_digits]}"
        if mask_card_numbers(candidate) == candidate:
            return candidate
