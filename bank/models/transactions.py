from django.db import models
from django.db.models import Q

from bank.models.actions import PendingAction
from bank.models.customers import Account, CreditCard, Customer
from bank.models.fields import money_field


class Transaction(models.Model):
    """A posted entry on one account or one card.

    ``amount`` is signed from the customer's side: negative takes money out of an account
    or is spent on a card; positive is a deposit, a refund or a payment to the card.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="transactions")
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="transactions"
    )
    card = models.ForeignKey(
        CreditCard, null=True, blank=True, on_delete=models.CASCADE, related_name="transactions"
    )
    posted_on = models.DateField()
    merchant = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=200)
    category = models.CharField(max_length=32, blank=True)
    amount = money_field()
    currency = models.CharField(max_length=3, default="USD")
    action = models.ForeignKey(
        PendingAction,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transactions",
        help_text="The confirmed action that posted it, if any.",
    )

    class Meta:
        ordering = ("-posted_on", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(account__isnull=False, card__isnull=True)
                | Q(account__isnull=True, card__isnull=False),
                name="bank_transaction_on_account_or_card",
            ),
            # However often an action is confirmed, it posts once to each account and card.
            models.UniqueConstraint(
                fields=("action", "account"), name="bank_transaction_once_per_action_account"
            ),
            models.UniqueConstraint(
                fields=("action", "card"), name="bank_transaction_once_per_action_card"
            ),
        ]
        indexes = [models.Index(fields=("customer", "posted_on"))]

    def __str__(self) -> str:
        return f"{self.posted_on} {self.description} {self.amount}"
