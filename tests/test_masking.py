import pytest

from fintalk.masking import mask_card_numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my card is 4111111111111111 ok", "my card is card ending 1111 ok"),
        ("4111 1111 1111 1234", "card ending 1234"),
        ("4111-1111-1111-9876", "card ending 9876"),
        ("amex 378282246310005", "amex card ending 0005"),
    ],
)
def test_card_numbers_are_masked_to_last_four(text, expected):
    assert mask_card_numbers(text) == expected


@pytest.mark.parametrize(
    "text",
    ["card ending 4567", "call +1 415 555 0101", "I paid $1,234.56 on 2026-11-22", "", "no digits"],
)
def test_other_numbers_are_left_alone(text):
    assert mask_card_numbers(text) == text
