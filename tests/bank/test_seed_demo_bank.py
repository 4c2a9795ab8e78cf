import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from bank.models import Customer, LoanProduct

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo_bank", *args, stdout=out)
    return out.getvalue()


def test_command_prints_one_summary_line():
    output = _run()
    assert output.count("\n") == 1
    assert "4 customers, 7 accounts, 5 cards, 6 loan products" in output


def test_json_output_parses_and_matches_the_database():
    data = json.loads(_run("--json"))

    assert set(data) == {"customers", "loan_products"}
    assert len(data["customers"]) == Customer.objects.count() == 4
    for described in data["customers"]:
        customer = Customer.objects.get(phone=described["phone"])
        assert described["name"] == customer.full_name
        assert described["date_of_birth"] == customer.date_of_birth.isoformat()
        assert described["postal_code"] == customer.postal_code
        accounts = {a.last4: a for a in customer.accounts.all()}
        assert {a["last4"] for a in described["accounts"]} == set(accounts)
        for account in described["accounts"]:
            assert Decimal(account["balance"]) == accounts[account["last4"]].balance
            assert account["currency"] == accounts[account["last4"]].currency
        cards = {c.last4: c for c in customer.cards.all()}
        assert {c["last4"] for c in described["cards"]} == set(cards)
        for card in described["cards"]:
            stored = cards[card["last4"]]
            assert Decimal(card["current_balance"]) == stored.current_balance
            assert Decimal(card["available_credit"]) == stored.available_credit
            assert card["payment_due_date"] == stored.payment_due_date.isoformat()
            assert card["status"] == stored.status

    assert len(data["loan_products"]) == LoanProduct.objects.count()
    for described in data["loan_products"]:
        product = LoanProduct.objects.get(code=described["code"])
        assert Decimal(described["apr_from"]) == product.apr_from
        assert Decimal(described["max_amount"]) == product.max_amount
        assert described["max_term_months"] == product.max_term_months


def test_json_output_is_the_same_when_run_twice():
    assert json.loads(_run("--json")) == json.loads(_run("--json"))
