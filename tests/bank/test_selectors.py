import pytest

from bank.models import LoanProduct
from bank.selectors import (
    account_list,
    credit_card_list,
    customer_get,
    customer_get_by_phone,
    loan_product_list,
)

# Transactional: the async ORM queries on another thread, outside the test's
# transaction, so the seeded rows must really be committed.
pytestmark = pytest.mark.django_db(transaction=True)


def test_customer_get_by_phone_finds_the_customer(run_async, customers_by_name):
    customer = run_async(customer_get_by_phone(phone="+14155550102"))
    assert customer == customers_by_name["Ben Carter"]


def test_customer_get_by_phone_gives_none_for_an_unknown_or_unnormalized_number(
    run_async, demo_customers
):
    assert run_async(customer_get_by_phone(phone="+14155550199")) is None
    assert run_async(customer_get_by_phone(phone="(415) 555-0102")) is None


def test_customer_get_finds_by_id_or_gives_none(run_async, customers_by_name):
    chloe = customers_by_name["Chloe Nguyen"]
    assert run_async(customer_get(customer_id=chloe.pk)) == chloe
    assert run_async(customer_get(customer_id=10**9)) is None


def test_account_list_returns_only_that_customers_accounts_checking_first(
    run_async, customers_by_name
):
    accounts = run_async(account_list(customer_id=customers_by_name["Ana Lopez"].pk))
    assert [(a.kind, a.last4, str(a.balance)) for a in accounts] == [
        ("checking", "3011", "2847.53"),
        ("savings", "3029", "12450.00"),
    ]


def test_credit_card_list_returns_only_that_customers_cards(run_async, customers_by_name):
    cards = run_async(credit_card_list(customer_id=customers_by_name["Chloe Nguyen"].pk))
    assert [(c.last4, c.status) for c in cards] == [("1111", "active"), ("2222", "frozen")]
    assert run_async(credit_card_list(customer_id=10**9)) == []


def test_loan_product_list_leaves_out_inactive_products(run_async, demo_customers):
    LoanProduct.objects.filter(code="auto-loan").update(active=False)
    codes = [product.code for product in run_async(loan_product_list())]
    assert len(codes) == 5
    assert "auto-loan" not in codes
