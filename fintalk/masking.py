"""Card-number masking: only the last four digits of a card ever leave or get stored."""

import re

# 13 to 19 digits, optionally grouped by spaces or dashes: the shapes card numbers take.
_CARD_NUMBER = re.compile(r"(?<![\d])(?:\d[ -]?){12,18}\d(?![\d])")


def _mask(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group())
    return f"card ending {digits[-4:]}"


def mask_card_numbers(text: str) -> str:
    """Replace anything shaped like a full card number with its last four digits."""
    if not text or not any(ch.isdigit() for ch in text):
        return text
    return _CARD_NUMBER.sub(_mask, text)
