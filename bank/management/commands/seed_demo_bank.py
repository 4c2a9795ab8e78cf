import json

from django.core.management.base import BaseCommand

from bank.models import Transaction
from bank.services import demo_bank_seed, demo_customers_describe, demo_loan_products_describe


class Command(BaseCommand):
    help = (
        "Create or reset the demo bank's customers, accounts, cards, transactions and loan "
        "products."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--json",
            action="store_true",
            help="Print only the seeded data as JSON, for scripts.",
        )

    def handle(self, *args, **options):
        seeded = demo_bank_seed()
        customers = demo_customers_describe()
        loan_products = demo_loan_products_describe()
        if options["json"]:
            self.stdout.write(
                json.dumps({"customers": customers, "loan_products": loan_products}, indent=2)
            )
            return
        accounts = sum(len(customer["accounts"]) for customer in customers)
        cards = sum(len(customer["cards"]) for customer in customers)
        transactions = Transaction.objects.filter(customer__in=seeded).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo bank seeded: {len(customers)} customers, {accounts} accounts, "
                f"{cards} cards, {len(loan_products)} loan products, "
                f"{transactions} transactions."
            )
        )
