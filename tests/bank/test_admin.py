import pytest
from django.urls import reverse

from bank.models import Transaction

pytestmark = pytest.mark.django_db


def test_customer_page_shows_accounts_and_cards_inline(admin_client, customers_by_name):
    chloe = customers_by_name["Chloe Nguyen"]
    response = admin_client.get(reverse("admin:bank_customer_change", args=[chloe.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    for last4 in ("5507", "5515", "1111", "2222"):
        assert f'value="{last4}"' in page


def test_customer_search_finds_by_phone(admin_client, demo_customers):
    response = admin_client.get(reverse("admin:bank_customer_changelist"), {"q": "5550102"})
    page = response.content.decode()
    assert "Ben Carter" in page
    assert "Ana Lopez" not in page


def test_card_list_shows_card_by_last_four(admin_client, demo_customers):
    response = admin_client.get(reverse("admin:bank_creditcard_changelist"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "8899" in page
    assert "Frozen" in page


def test_loan_product_list_renders(admin_client, demo_customers):
    response = admin_client.get(reverse("admin:bank_loanproduct_changelist"))
    assert "30-Year Fixed Mortgage" in response.content.decode()


def test_the_assistants_actions_and_conversations_are_read_only_lists(admin_client, demo_customers):
    for model in ("pendingaction", "callersession", "transaction"):
        assert admin_client.get(reverse(f"admin:bank_{model}_changelist")).status_code == 200
        assert admin_client.get(reverse(f"admin:bank_{model}_add")).status_code == 403
    transaction = Transaction.objects.first()
    assert admin_client.get(reverse("admin:bank_transaction_delete", args=[transaction.pk])).status_code == 403
    page = admin_client.get(reverse("admin:bank_transaction_changelist"), {"q": "Amazon"}).content.decode()
    assert "Amazon.com order" in page
