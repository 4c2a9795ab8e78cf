from datetime import date
from decimal import Decimal

import pytest

from bank.lending import monthly_payment, prequalify


@pytest.mark.parametrize(
    ("principal", "rate", "months", "payment"),
    [
        ("20000", "6.5", 60, "391.32"),
        ("300000", "6.25", 360, "1847.15"),
        ("1200", "0", 12, "100.00"),
        ("5000", "24.99", 12, "475.20"),
    ],
)
def test_monthly_payment_is_the_amortized_payment(principal, rate, months, payment):
    assert monthly_payment(
        principal=Decimal(principal), annual_rate_percent=Decimal(rate), term_months=months
    ) == Decimal(payment)


PERSONAL = {
    "kind": "personal",
    "apr_from": Decimal("7.99"),
    "apr_to": Decimal("24.99"),
    "min_amount": Decimal("1000"),
    "max_amount": Decimal("50000"),
    "min_term_months": 12,
    "max_term_months": 84,
}


def _check(**overrides):
    applicant = {
        "annual_income": Decimal("98000"),
        "monthly_debt_payments": Decimal("450"),
        "credit_score": 752,
        "customer_since": date(2016, 5, 2),
        "today": date(2026, 11, 22),
    }
    return prequalify(**PERSONAL, **{**applicant, **overrides})


def test_a_strong_profile_gets_up_to_the_products_maximum_at_a_low_rate():
    result = _check()

    assert result.qualified and result.max_amount == Decimal("50000")
    assert result.apr_percent == Decimal("13.69")  # 35% into the range, less 0.25 for loyalty


def test_loyalty_lowers_the_rate():
    assert _check().apr_percent - _check(customer_since=date(2026, 1, 1)).apr_percent == Decimal(
        "-0.25"
    )


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"credit_score": 600}, "credit_score"),
        ({"monthly_debt_payments": Decimal("4000")}, "debt_to_income"),
        (
            {"annual_income": Decimal("16000"), "monthly_debt_payments": Decimal("520")},
            "below_minimum",
        ),
        ({"requested_amount": Decimal("60000")}, "amount_too_high"),
    ],
)
def test_reasons_not_to_prequalify(overrides, reason):
    result = _check(**overrides)

    assert not result.qualified and result.reason == reason
