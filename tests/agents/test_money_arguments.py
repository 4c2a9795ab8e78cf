"""Amounts in tool arguments, read strictly: a plain positive number of cents, or a refusal."""

from decimal import Decimal

import pytest

from agents.language import AmountRefused, parse_amount, parse_amount_argument


@pytest.mark.parametrize(
    ("value", "amount"),
    [
        (250, "250.00"),
        (35.0, "35.00"),
        (35.1, "35.10"),
        ("250", "250.00"),
        (" 250.75 ", "250.75"),
        ("$1,200.50", "1200.50"),
        ("0.01", "0.01"),
        (None, None),
        ("", None),
    ],
)
def test_numbers_and_plain_decimal_strings_are_amounts(value, amount):
    assert parse_amount_argument(value) == (Decimal(amount) if amount else None)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("-$523.45", "negative"),
        ("\u2212$545.67", "negative"),  # Unicode minus
        ("\u2013200", "negative"),  # en dash
        (-200, "negative"),
        ("(200)", "negative"),
        (0, "zero"),
        ("0.00", "zero"),
        (float("nan"), "not_finite"),
        ("NaN", "not_finite"),
        (float("inf"), "not_finite"),
        ("Infinity", "not_finite"),
        ("1e5", "exponent"),
        ("1E+5", "exponent"),
        (1e-7, "exponent"),
        ("12.345", "too_precise"),
        (10.005, "too_precise"),
        (10**16, "too_large"),
        (True, "not_a_number"),
        ("1,20", "not_a_number"),
        ("12 dollars", "not_a_number"),
        ([12], "not_a_number"),
    ],
)
def test_anything_else_is_refused_with_its_reason(value, reason):
    with pytest.raises(AmountRefused) as refused:
        parse_amount_argument(value)

    assert refused.value.reason == reason


@pytest.mark.parametrize(
    "words", ["move -200 dollars", "move \u2212$200", "transfer minus 200 dollars", "pay negative $200"]
)
def test_a_minus_in_the_callers_words_makes_the_amount_negative(words):
    assert parse_amount(words) == Decimal("-200.00")


@pytest.mark.parametrize("words", ["pay 1,200 - thanks", "card ending 4567 - pay $40", "pay the $40-ish bill"])
def test_a_dash_elsewhere_is_no_minus(words):
    assert parse_amount(words) > 0
