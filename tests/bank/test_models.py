from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from bank.models import Account, CreditCard, Customer, LoanProduct


@pytest.fixture
def customer(db) -> Customer:
    return Customer.objects.create(
        full_name="Test Person",
        phone="+14155550177",
        date_of_birth=date(1990, 1, 1),
        postal_code="94110",
    )


def _card(customer: Customer, **overrides) -> CreditCard:
    values = {
        "customer": customer,
        "brand": "Visa",
        "last4": "4321",
        "credit_limit": Decimal("1000.00"),
        "current_balance": Decimal("250.25"),
        "statement_balance": Decimal("200.00"),
        "minimum_payment": Decimal("25.00"),
        "payment_due_date": date(2030, 1, 15),
    }
    return CreditCard(**{**values, **overrides})


@pytest.mark.parametrize("last4", ["12345", "12a4", "123", "", "１２３４", "4 56"])
def test_card_last4_must_be_exactly_four_digits(customer, last4):
    with pytest.raises(ValidationError) as error:
        _card(customer, last4=last4).full_clean()
    assert "last4" in error.value.message_dict


@pytest.mark.parametrize("last4", ["12345", "12a4"])
def test_account_last4_must_be_exactly_four_digits(customer, last4):
    account = Account(
        customer=customer, kind="checking", nickname="Spare", last4=last4, balance=Decimal("1")
    )
    with pytest.raises(ValidationError) as error:
        account.full_clean()
    assert "last4" in error.value.message_dict


def test_database_refuses_a_card_last4_that_skipped_validation(customer):
    with pytest.raises(IntegrityError), transaction.atomic():
        _card(customer, last4="12a4").save()


def test_valid_card_passes_validation_and_defaults_to_active_usd(customer):
    card = _card(customer)
    card.full_clean()
    card.save()
    assert (card.status, card.currency) == ("active", "USD")


def test_available_credit_is_limit_minus_current_balance(customer):
    assert _card(customer).available_credit == Decimal("749.75")
    assert _card(customer, current_balance=Decimal("-20.00")).available_credit == Decimal(
        "1020.00"
    )


def test_card_shows_only_brand_and_last_four(customer):
    assert str(_card(customer)) == "Visa ending 4321"


def test_customer_shows_name_and_masked_phone(customer):
    assert str(customer) == "Test Person (…0177)"
    assert "415" not in str(customer)


def test_loan_product_rejects_an_inverted_apr_range(db):
    product = LoanProduct(
        code="backwards",
        name="Backwards",
        kind="personal",
        apr_from=Decimal("9.00"),
        apr_to=Decimal("5.00"),
        min_amount=Decimal("1000.00"),
        max_amount=Decimal("5000.00"),
        min_term_months=12,
        max_term_months=60,
        description="Rates run the wrong way.",
    )
    with pytest.raises(ValidationError) as error:
        product.full_clean()
    assert list(error.value.message_dict) == ["__all__"]
