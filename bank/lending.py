"""Loan arithmetic and the bank's pre-qualification rules. Pure: no database, no clock."""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

_CENT = Decimal("0.01")


# What the bank asks of a borrower, per loan kind: the lowest credit score, the highest
# share of monthly income all debt payments may take, and the term a quote assumes.
@dataclass(frozen=True)
class LendingRule:
    min_score: int
    max_debt_to_income: Decimal
    quote_term_months: int


LENDING_RULES: dict[str, LendingRule] = {
    "personal": LendingRule(640, Decimal("0.40"), 60),
    "auto": LendingRule(600, Decimal("0.43"), 72),
    "home": LendingRule(620, Decimal("0.43"), 360),
    "home_equity": LendingRule(680, Decimal("0.43"), 240),
    "student": LendingRule(650, Decimal("0.40"), 120),
}
# Customers of this many years get this much off the rate, never below the product's floor.
LOYALTY_YEARS = 2
LOYALTY_DISCOUNT = Decimal("0.25")


def monthly_payment(
    *, principal: Decimal, annual_rate_percent: Decimal, term_months: int
) -> Decimal:
    """The fixed monthly payment that repays ``principal`` over ``term_months`` (amortized)."""
    if term_months <= 0:
        raise ValueError("term_months must be positive")
    rate = annual_rate_percent / Decimal(1200)
    if rate == 0:
        payment = principal / term_months
    else:
        payment = principal * rate / (1 - (1 + rate) ** -term_months)
    return payment.quantize(_CENT, rounding=ROUND_HALF_UP)


def principal_for_payment(
    *, payment: Decimal, annual_rate_percent: Decimal, term_months: int
) -> Decimal:
    """The most that ``payment`` a month repays over ``term_months``: the inverse of the above."""
    rate = annual_rate_percent / Decimal(1200)
    if rate == 0:
        return payment * term_months
    return payment * (1 - (1 + rate) ** -term_months) / rate


@dataclass(frozen=True)
class Prequalification:
    qualified: bool
    reason: str  # "ok", "credit_score", "debt_to_income", "below_minimum", "amount_too_high"
    max_amount: Decimal = Decimal("0")
    apr_percent: Decimal = Decimal("0")
    term_months: int = 0
    monthly_payment: Decimal = Decimal("0")


def _estimated_apr(*, apr_from: Decimal, apr_to: Decimal, score: int, loyal: bool) -> Decimal:
    """Where in the product's range a score lands: 800+ gets the floor, the minimum the top."""
    steps = (
        (800, Decimal("0")),
        (760, Decimal("0.15")),
        (720, Decimal("0.35")),
        (680, Decimal("0.55")),
    )
    share = next((share for floor, share in steps if score >= floor), Decimal("0.8"))
    apr = apr_from + (apr_to - apr_from) * share - (LOYALTY_DISCOUNT if loyal else 0)
    return max(apr, apr_from).quantize(_CENT, rounding=ROUND_HALF_UP)


def prequalify(
    *,
    kind: str,
    apr_from: Decimal,
    apr_to: Decimal,
    min_amount: Decimal,
    max_amount: Decimal,
    min_term_months: int,
    max_term_months: int,
    annual_income: Decimal,
    monthly_debt_payments: Decimal,
    credit_score: int,
    customer_since: date,
    today: date,
    requested_amount: Decimal | None = None,
) -> Prequalification:
    """A soft pre-qualification for one loan product from what the bank knows.

    The room for a new payment is the rule's share of monthly income less the debts already
    paid each month; the largest loan that payment repays over the quote term at the
    estimated rate is the offer, capped by the product's maximum.
    """
    rule = LENDING_RULES.get(kind, LENDING_RULES["personal"])
    if credit_score < rule.min_score:
        return Prequalification(False, "credit_score")
    term = min(max(rule.quote_term_months, min_term_months), max_term_months)
    years = (today - customer_since).days // 365
    apr = _estimated_apr(
        apr_from=apr_from, apr_to=apr_to, score=credit_score, loyal=years >= LOYALTY_YEARS
    )
    room = annual_income / 12 * rule.max_debt_to_income - monthly_debt_payments
    if room <= 0:
        return Prequalification(False, "debt_to_income", apr_percent=apr, term_months=term)
    most = principal_for_payment(payment=room, annual_rate_percent=apr, term_months=term)
    # Offers are in whole hundreds, rounded down.
    most = (min(most, max_amount) / 100).to_integral_value(rounding=ROUND_DOWN) * 100
    if most < min_amount:
        return Prequalification(False, "below_minimum", most, apr, term)
    amount = most
    if requested_amount is not None:
        if requested_amount > most:
            payment = monthly_payment(principal=most, annual_rate_percent=apr, term_months=term)
            return Prequalification(False, "amount_too_high", most, apr, term, payment)
        amount = max(requested_amount, min_amount)
    payment = monthly_payment(principal=amount, annual_rate_percent=apr, term_months=term)
    return Prequalification(True, "ok", most, apr, term, payment)
