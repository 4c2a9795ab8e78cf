"""Loans: what the bank offers, what a loan would cost, and pre-qualifying the caller."""

from decimal import Decimal

from django.utils import timezone

from agents.caller import CallerContext
from agents.phrases import OFFER_HUMAN
from agents.formatting import money, percent
from agents.tools.base import as_amount, as_number, bank_tool, customer_or_refuse
from bank.lending import LENDING_RULES, monthly_payment, prequalify
from bank.models import LoanProduct
from bank.selectors import account_list, credit_profile_get, loan_product_list

_KINDS = {choice.value for choice in LoanProduct.Kind}


def _kind(kind: str | None) -> str | None:
    if not kind:
        return None
    wanted = kind.strip().lower().replace(" ", "_").replace("-", "_")
    aliases = {"mortgage": "home", "car": "auto", "heloc": "home_equity"}
    wanted = aliases.get(wanted, wanted)
    return wanted if wanted in _KINDS else None


def _product(products: list[LoanProduct], kind: str | None) -> LoanProduct | None:
    """The product a quote is based on, of the kind asked for (else personal): of several,
    the one with the longest term, as a "mortgage" usually means the 30-year one."""
    wanted = _kind(kind) or "personal"
    return max(
        (p for p in products if p.kind == wanted), key=lambda p: p.max_term_months, default=None
    )


def _terms(shortest: int, longest: int) -> str:
    if shortest == longest:
        return f"a {_term(shortest, unit_only=True)} term"
    return f"terms of {_term(shortest)} to {_term(longest)}"


def _term(months: int, *, unit_only: bool = False) -> str:
    if months % 12 == 0:
        years = months // 12
        return f"{years}-year" if unit_only else f"{years} year" + ("s" if years != 1 else "")
    return f"{months}-month" if unit_only else f"{months} months"


@bank_tool
async def list_loan_products(caller: CallerContext, kind: str | None = None) -> str:
    """List the bank's loan products with their APR range, amounts and terms.

    Args:
        kind: Optional product family to list: personal, auto, home, home_equity or
            student. Omit it to list every product.
    """
    products = await loan_product_list()
    if kind:
        wanted = _kind(kind)
        products = [p for p in products if p.kind == wanted] or products
    if not products:
        return "The bank has no loan products on offer right now."
    lines = [
        f"{p.name}: {percent(p.apr_from)} to {percent(p.apr_to)} APR, "
        f"{money(p.min_amount, cents=False)} to {money(p.max_amount, cents=False)}, "
        f"{_terms(p.min_term_months, p.max_term_months)}."
        for p in products
    ]
    return "We offer: " + " ".join(lines)


_LARGEST_LOAN = Decimal("100000000")


@bank_tool
async def calculate_loan_payment(
    caller: CallerContext,
    amount: float | None = None,
    annual_rate_percent: float | None = None,
    term_months: int | None = None,
    kind: str | None = None,
) -> str:
    """Calculate the fixed monthly payment, total cost and interest of a loan. Without a
    rate or term, uses the lowest rate and a typical term of the bank's product of that
    kind (personal when no kind is given).

    Args:
        amount: The amount to borrow.
        annual_rate_percent: Optional APR in percent, e.g. 6.5.
        term_months: Optional length of the loan in months, e.g. 60.
        kind: Optional loan kind: personal, auto, home, home_equity or student.
    """
    principal = as_amount(amount, limit=_LARGEST_LOAN, limit_is="any loan we make")
    if principal is None or principal < 1:
        return (
            "How much would you like to borrow? Tell me the amount, and if you know them, the "
            "rate and the term."
        )
    assumed = []
    product = _product(await loan_product_list(), kind)
    rate = as_number(annual_rate_percent)
    if rate is None and product is not None:
        rate = product.apr_from
        assumed.append(f"our {product.name}'s lowest rate, {percent(rate)} APR")
    months = int(term_months) if term_months else None
    if months is None and product is not None:
        rule = LENDING_RULES.get(product.kind, LENDING_RULES["personal"])
        months = min(max(rule.quote_term_months, product.min_term_months), product.max_term_months)
        assumed.append(f"a {_term(months, unit_only=True)} term")
    if rate is None or months is None:
        return "What interest rate and term should I use? For example, 6.5% over 5 years."
    if not (Decimal("0") <= rate <= Decimal("100") and 1 <= months <= 600):
        return (
            "That rate or term doesn't look right: give a rate up to 100% and a term up to "
            "50 years."
        )
    payment = monthly_payment(principal=principal, annual_rate_percent=rate, term_months=months)
    total = payment * months
    note = (
        f" I used {' and '.join(assumed)}; your actual rate depends on your credit."
        if assumed
        else ""
    )
    return (
        f"Borrowing {money(principal)} at {percent(rate)} APR over {_term(months)} comes to "
        f"about {money(payment)} a month: {money(total)} in total, of which "
        f"{money(max(total - principal, Decimal('0')))} is interest.{note}"
    )


@bank_tool
async def check_loan_prequalification(
    caller: CallerContext, kind: str | None = None, amount: float | None = None
) -> str:
    """Check whether the caller pre-qualifies for one of the bank's loans, from the income,
    debts, credit score and history the bank holds for them, and for how much. A soft
    check: it is an estimate, not an offer, and does not affect their credit score.

    Args:
        kind: Optional loan kind: personal, auto, home, home_equity or student (personal
            when omitted).
        amount: Optional amount the caller would like to borrow.
    """
    customer = await customer_or_refuse(caller)
    product = _product(await loan_product_list(), kind)
    profile = await credit_profile_get(customer_id=customer.pk)
    if product is None or profile is None:
        return (
            f"I can't pre-qualify you for that here, but a loan officer can. I can {OFFER_HUMAN}."
        )
    requested = as_amount(amount)
    result = prequalify(
        kind=product.kind,
        apr_from=product.apr_from,
        apr_to=product.apr_to,
        min_amount=product.min_amount,
        max_amount=product.max_amount,
        min_term_months=product.min_term_months,
        max_term_months=product.max_term_months,
        annual_income=profile.annual_income,
        monthly_debt_payments=profile.monthly_debt_payments,
        credit_score=profile.credit_score,
        customer_since=profile.customer_since,
        today=timezone.localdate(),
        requested_amount=requested,
    )
    currency = (await _currency(customer.pk)) or "USD"
    estimate = (
        "This is an estimate, not a loan offer, and checking it doesn't affect your credit score."
    )
    quote = f"at an estimated {percent(result.apr_percent)} APR over {_term(result.term_months)}"
    if result.qualified:
        asked = "for the amount you asked about" if requested is not None else "at that amount"
        return (
            f"Good news, {customer.first_name}: based on your income and history with us you're "
            f"pre-qualified for a {product.name} of up to "
            f"{money(result.max_amount, currency, cents=False)} {quote}; {asked} that's about "
            f"{money(result.monthly_payment, currency)} a month. {estimate}"
        )
    if result.reason == "amount_too_high":
        return (
            f"You're pre-qualified for a {product.name} of up to "
            f"{money(result.max_amount, currency, cents=False)} {quote}, less than the "
            f"{money(requested, currency, cents=False)} you asked about. {estimate}"
        )
    why = {
        "credit_score": "your credit history doesn't meet this loan's requirements",
        "debt_to_income": "your current monthly debt payments leave too little room for a new "
        "loan payment",
        "below_minimum": "the amount your income supports is below this loan's minimum",
    }[result.reason]
    return (
        f"Based on what we have on file, I can't pre-qualify you for a {product.name} right now: "
        f"{why}. A loan officer can look at your full situation; I can {OFFER_HUMAN}."
    )


async def _currency(customer_id: int) -> str | None:
    accounts = await account_list(customer_id=customer_id)
    return accounts[0].currency if accounts else None
