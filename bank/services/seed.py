"""Seeding the demo bank, and describing what was seeded."""

import dataclasses
import random
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

from django.db import models, transaction
from django.utils import timezone

from bank.demo import DEMO_CUSTOMERS, DEMO_HISTORY_DAYS, DEMO_LOAN_PRODUCTS, DemoCustomer
from bank.models import (
    Account,
    CreditCard,
    CreditProfile,
    Customer,
    LoanProduct,
    Transaction,
)

M = TypeVar("M", bound=models.Model)


@transaction.atomic
def demo_bank_seed() -> list[Customer]:
    """Create or reset the demo customers and loan products; return the customers.

    Rows are found by phone, loan code and last four digits, so seeding again keeps their
    ids and puts every demo value back, and removes accounts or cards that were added to a
    demo customer since. A demo customer's transactions are laid out afresh, backwards from
    today, and the actions they asked for are forgotten. Other customers and loan products
    are left alone.
    """
    for product in DEMO_LOAN_PRODUCTS:
        values = dataclasses.asdict(product)
        lookup = {"code": values.pop("code")}
        _upsert(LoanProduct, lookup=lookup, values={**values, "active": True})
    today = timezone.localdate()
    return [_demo_customer_seed(demo, today=today) for demo in DEMO_CUSTOMERS]


def demo_customers_describe() -> list[dict]:
    """The seeded demo customers with their accounts and cards, ready for JSON."""
    phones = [demo.phone for demo in DEMO_CUSTOMERS]
    customers = Customer.objects.filter(phone__in=phones).prefetch_related(
        "accounts", "cards", "credit_profile"
    )
    by_phone = {customer.phone: customer for customer in customers}
    return [_customer_describe(by_phone[phone]) for phone in phones if phone in by_phone]


def demo_loan_products_describe() -> list[dict]:
    """The seeded demo loan products, ready for JSON."""
    codes = [product.code for product in DEMO_LOAN_PRODUCTS]
    by_code = {product.code: product for product in LoanProduct.objects.filter(code__in=codes)}
    return [_loan_product_describe(by_code[code]) for code in codes if code in by_code]


def _demo_customer_seed(demo: DemoCustomer, *, today: date) -> Customer:
    customer = _upsert(
        Customer,
        lookup={"phone": demo.phone},
        values={
            "full_name": demo.full_name,
            "date_of_birth": demo.date_of_birth,
            "postal_code": demo.postal_code,
        },
    )
    for account in demo.accounts:
        _upsert(
            Account,
            lookup={"customer": customer, "last4": account.last4},
            values={
                "kind": account.kind,
                "nickname": account.nickname,
                "balance": account.balance,
                "currency": demo.currency,
            },
        )
    for card in demo.cards:
        _upsert(
            CreditCard,
            lookup={"customer": customer, "last4": card.last4},
            values={
                "brand": card.brand,
                "credit_limit": card.credit_limit,
                "current_balance": card.current_balance,
                "statement_balance": card.statement_balance,
                "minimum_payment": card.minimum_payment,
                "payment_due_date": today + timedelta(days=card.due_in_days),
                "status": card.status,
                "currency": demo.currency,
            },
        )
    _upsert(
        CreditProfile,
        lookup={"customer": customer},
        values=dataclasses.asdict(demo.credit),
    )
    # Transactions first: they protect the actions that posted them.
    customer.transactions.all().delete()
    customer.actions.all().delete()
    customer.accounts.exclude(last4__in=[account.last4 for account in demo.accounts]).delete()
    customer.cards.exclude(last4__in=[card.last4 for card in demo.cards]).delete()
    Transaction.objects.bulk_create(_demo_transactions(demo, customer=customer, today=today))
    return customer


def _demo_transactions(demo: DemoCustomer, *, customer: Customer, today: date) -> list[Transaction]:
    accounts = {account.last4: account for account in customer.accounts.all()}
    cards = {card.last4: card for card in customer.cards.all()}
    rows = []
    for spending in demo.spending:
        # Seeded by customer and entry, so every seeding draws the same amounts.
        draw = random.Random(f"{demo.phone}:{spending.description}:{spending.on}")
        for days_ago in range(spending.first_days_ago, DEMO_HISTORY_DAYS, spending.every_days):
            cents = draw.randint(int(spending.low * 100), int(spending.high * 100))
            rows.append(
                Transaction(
                    customer=customer,
                    account=accounts.get(spending.on),
                    card=cards.get(spending.on),
                    posted_on=today - timedelta(days=days_ago),
                    merchant=spending.merchant,
                    description=spending.description,
                    category=spending.category,
                    amount=Decimal(cents).scaleb(-2),
                    currency=demo.currency,
                )
            )
    return rows


def _upsert(model: type[M], *, lookup: dict, values: dict) -> M:
    # full_clean() rather than update_or_create(): the demo data passes the same
    # validators (four-digit last4, loan ranges) as anything typed into the admin.
    instance = model.objects.filter(**lookup).first() or model(**lookup)
    for field, value in values.items():
        setattr(instance, field, value)
    instance.full_clean()
    instance.save()
    return instance


def _customer_describe(customer: Customer) -> dict:
    profile = customer.credit_profile
    return {
        "name": customer.full_name,
        "phone": customer.phone,
        "date_of_birth": customer.date_of_birth.isoformat(),
        "postal_code": customer.postal_code,
        "accounts": [
            {
                "kind": account.kind,
                "nickname": account.nickname,
                "last4": account.last4,
                "balance": _amount(account.balance),
                "currency": account.currency,
            }
            for account in customer.accounts.all()
        ],
        "cards": [
            {
                "brand": card.brand,
                "last4": card.last4,
                "credit_limit": _amount(card.credit_limit),
                "current_balance": _amount(card.current_balance),
                "statement_balance": _amount(card.statement_balance),
                "minimum_payment": _amount(card.minimum_payment),
                "available_credit": _amount(card.available_credit),
                "payment_due_date": card.payment_due_date.isoformat(),
                "status": card.status,
                "currency": card.currency,
            }
            for card in customer.cards.all()
        ],
        "credit_profile": {
            "annual_income": _amount(profile.annual_income),
            "monthly_debt_payments": _amount(profile.monthly_debt_payments),
            "credit_score": profile.credit_score,
            "customer_since": profile.customer_since.isoformat(),
        },
    }


def _loan_product_describe(product: LoanProduct) -> dict:
    return {
        "code": product.code,
        "name": product.name,
        "apr_from": _amount(product.apr_from),
        "apr_to": _amount(product.apr_to),
        "min_amount": _amount(product.min_amount),
        "max_amount": _amount(product.max_amount),
        "min_term_months": product.min_term_months,
        "max_term_months": product.max_term_months,
    }


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"
