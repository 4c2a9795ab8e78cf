"""How the bank's tools write amounts, dates, rates and lists in their answers."""

from datetime import date
from decimal import Decimal

import pytest

from agents.formatting import day, money, percent, spoken_list


@pytest.mark.parametrize(
    ("amount", "currency", "cents", "written"),
    [
        (Decimal("1234.56"), "USD", True, "$1,234.56"),
        (Decimal("-35"), "USD", True, "-$35.00"),
        (Decimal("5000"), "USD", False, "$5,000"),
        (Decimal("5000.50"), "USD", False, "$5,000.50"),
        (Decimal("955.3"), "gbp", True, "£955.30"),
        (Decimal("12"), "CHF", True, "12.00 CHF"),
    ],
)
def test_money_is_written_with_the_currency_symbol_and_thousands(amount, currency, cents, written):
    assert money(amount, currency, cents=cents) == written


def test_a_day_is_written_out():
    assert day(date(2026, 12, 4)) == "December 4, 2026"


def test_a_rate_keeps_only_its_significant_digits():
    assert percent(Decimal("6.50")) == "6.5%"
    assert percent(Decimal("7")) == "7%"


@pytest.mark.parametrize(
    ("items", "written"),
    [([], ""), (["checking"], "checking"), (["a", "b"], "a and b"), (["a", "b", "c"], "a, b and c")],
)
def test_lists_are_joined_as_they_are_said(items, written):
    assert spoken_list(items) == written
