from decimal import Decimal

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from bank.models import Account, CreditCard, Customer, LoanProduct
from bank.services import demo_bank_seed, demo_customers_describe

pytestmark = pytest.mark.django_db

BANK_MODELS = (Customer, Account, CreditCard, LoanProduct)


def _bank_rows() -> dict[str, list[dict]]:
    return {
        model.__name__: [
            {**model_to_dict(row), "id": row.pk} for row in model.objects.order_by("pk")
        ]
        for model in BANK_MODELS
    }


def test_seed_creates_the_demo_bank(demo_customers):
    assert [customer.full_name for customer in demo_customers] == [
        "Ana Lopez",
        "Ben Carter",
        "Chloe Nguyen",
        "David Okafor",
    ]
    counts = {model.__name__: model.objects.count() for model in BANK_MODELS}
    assert counts == {"Customer": 4, "Account": 7, "CreditCard": 5, "LoanProduct": 6}


def test_seeding_twice_leaves_exactly_the_same_rows():
    demo_bank_seed()
    first = _bank_rows()
    demo_bank_seed()
    assert _bank_rows() == first


def test_seeding_again_resets_changed_and_removed_demo_data(customers_by_name):
    expected = demo_customers_describe()
    ana, ben = customers_by_name["Ana Lopez"], customers_by_name["Ben Carter"]
    ana.accounts.filter(kind="checking").update(balance=Decimal("0.01"))
    ana.cards.update(status="lost")
    ben.cards.all().delete()
    CreditCard.objects.create(
        customer=ana,
        brand="Amex",
        last4="9999",
        credit_limit=Decimal("1.00"),
        current_balance=Decimal("0"),
        statement_balance=Decimal("0"),
        minimum_payment=Decimal("0"),
        payment_due_date=timezone.localdate(),
    )
    Customer.objects.filter(pk=ana.pk).update(full_name="Somebody Else")

    demo_bank_seed()

    assert demo_customers_describe() == expected
    assert Customer.objects.get(phone="+14155550101").pk == ana.pk


def test_seeding_leaves_other_customers_alone(demo_customers):
    other = Customer.objects.create(
        full_name="Real Customer",
        phone="+14155550188",
        date_of_birth="1970-05-05",
        postal_code="10001",
    )
    demo_bank_seed()
    assert Customer.objects.filter(pk=other.pk, full_name="Real Customer").exists()


def test_every_demo_card_balance_is_distinct(demo_customers):
    balances = list(CreditCard.objects.values_list("current_balance", flat=True))
    assert len(balances) == len(set(balances)) == 5


def test_demo_payment_due_dates_are_in_the_future(demo_customers):
    today = timezone.localdate()
    assert all(card.payment_due_date > today for card in CreditCard.objects.all())


def test_demo_customers_differ_as_the_demo_script_expects(customers_by_name):
    ana, ben, chloe, david = (
        customers_by_name[name]
        for name in ("Ana Lopez", "Ben Carter", "Chloe Nguyen", "David Okafor")
    )
    assert [(card.brand, card.last4) for card in ana.cards.all()] == [("Visa", "4567")]
    assert [account.kind for account in ben.accounts.all()] == ["checking"]
    (ben_card,) = ben.cards.all()
    assert (ben_card.brand, ben_card.last4) == ("Mastercard", "8899")
    assert ben_card.available_credit < ben_card.credit_limit * Decimal("0.1")
    assert {card.last4: card.status for card in chloe.cards.all()} == {
        "1111": "active",
        "2222": "frozen",
    }
    assert david.phone == "+442079460958"
    assert {account.currency for account in david.accounts.all()} == {"GBP"}
    assert {card.currency for card in david.cards.all()} == {"GBP"}


def test_describe_reports_the_seeded_values_as_json_ready_strings(customers_by_name):
    described = {customer["name"]: customer for customer in demo_customers_describe()}
    ana = described["Ana Lopez"]
    assert ana["phone"] == "+14155550101"
    assert ana["date_of_birth"] == customers_by_name["Ana Lopez"].date_of_birth.isoformat()
    assert [(a["kind"], a["last4"], a["balance"]) for a in ana["accounts"]] == [
        ("checking", "3011", "2847.53"),
        ("savings", "3029", "12450.00"),
    ]
    (card,) = ana["cards"]
    assert card["current_balance"] == "1234.56"
    assert card["available_credit"] == "3765.44"
    assert card["payment_due_date"] > timezone.localdate().isoformat()


def test_loan_products_cover_the_main_kinds_with_sane_ranges(demo_customers):
    products = LoanProduct.objects.all()
    assert {product.kind for product in products} == {
        "personal",
        "auto",
        "home",
        "home_equity",
        "student",
    }
    for product in products:
        assert Decimal("0") < product.apr_from <= product.apr_to < Decimal("36")
        assert product.min_amount <= product.max_amount
        assert product.min_term_months <= product.max_term_months
    mortgage = LoanProduct.objects.get(code="mortgage-30-fixed")
    assert mortgage.min_term_months == mortgage.max_term_months == 360
