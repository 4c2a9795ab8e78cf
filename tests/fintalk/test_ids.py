"""Fintalk's own ids never look like a card number to the masker (or they could not be
found again in the conversation log, which stores everything masked)."""

import uuid
from unittest import mock

from fintalk.ids import new_id
from fintalk.masking import mask_card_numbers

# 4539 5787 6362 1486 passes the Luhn check: glued to hex letters it is still masked.
LOOKS_LIKE_A_CARD = uuid.UUID("4539578763621486abcdefabcdefabcd")
PLAIN = uuid.UUID("0123abcd0123abcd0123abcd0123abcd")


def test_an_id_holding_a_card_number_is_drawn_again():
    assert mask_card_numbers(f"chatcmpl-{LOOKS_LIKE_A_CARD.hex}") != f"chatcmpl-{LOOKS_LIKE_A_CARD.hex}"

    with mock.patch("fintalk.ids.uuid.uuid4", side_effect=[LOOKS_LIKE_A_CARD, PLAIN]):
        made = new_id("chatcmpl-")

    assert made == f"chatcmpl-{PLAIN.hex}"


def test_ids_have_the_prefix_and_length_asked_for():
    made = new_id("call_", hex_digits=24)

    assert made.startswith("call_") and len(made) == len("call_") + 24
    assert mask_card_numbers(made) == made
