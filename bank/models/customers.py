"""Customers and what they hold: accounts, credit cards, and the data lending looks at.

Card and account numbers are never stored: ``last4`` is all the bank shares with the
assistant, so it is all that can leak into an answer, a log line or the admin.
"""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from bank.models.fields import last4_constraint, last4_field, money_field


class Customer(models.Model):
    full_name = models.CharField(max_length=200)
    phone = models.CharField(max_length=16, unique=True, help_text="E.164, e.g. +14155550101")
    date_of_birth = models.DateField()
    postal_code = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("full_name", "id")

    def __str__(self) -> str:
        return f"{self.full_name} (…{self.phone[-4:]})"

    @property
    def first_name(self) -> str:
        return self.full_name.split(" ")[0]


class Account(models.Model):
    class Kind(models.TextChoices):
        CHECKING = "checking", "Checking"
        SAVINGS = "savings", "Savings"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="accounts")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    nickname = models.CharField(max_length=100)
    last4 = last4_field()
    balance = money_field()
    currency = models.CharField(max_length=3, default="USD")

    class Meta:
        ordering = ("kind", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("customer", "last4"), name="bank_account_unique_last4_per_customer"
            ),
            last4_constraint("account"),
        ]

    def __str__(self) -> str:
        return f"{self.nickname} ending {self.last4}"


class CreditCard(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        FROZEN = "frozen", "Frozen"
        LOST = "lost", "Reported lost"
        STOLEN = "stolen", "Reported stolen"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="cards")
    brand = models.CharField(max_length=32)
    last4 = last4_field()
    credit_limit = money_field(validators=[MinValueValidator(Decimal("0"))])
    current_balance = money_field()
    statement_balance = money_field()
    minimum_payment = money_field(validators=[MinValueValidator(Decimal("0"))])
    payment_due_date = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    currency = models.CharField(max_length=3, default="USD")

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(
                fields=("customer", "last4"), name="bank_creditcard_unique_last4_per_customer"
            ),
            last4_constraint("creditcard"),
        ]

    def __str__(self) -> str:
        return f"{self.brand} ending {self.last4}"

    @property
    def available_credit(self) -> Decimal:
        return self.credit_limit - self.current_balance

    @property
    def is_closed(self) -> bool:
        """Reported lost or stolen: blocked for good, a replacement replaces it."""
        return self.status in (self.Status.LOST, self.Status.STOLEN)


class CreditProfile(models.Model):
    """What loan pre-qualification weighs: income, existing debt, credit score, tenure.

    A soft check on data the bank already holds; nothing here comes from a credit bureau
    pull made by the assistant.
    """

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, related_name="credit_profile"
    )
    annual_income = money_field(validators=[MinValueValidator(Decimal("0"))])
    monthly_debt_payments = money_field(
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Existing monthly debt payments (rent or mortgage, loans, card minimums).",
    )
    credit_score = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(300), MaxValueValidator(850)]
    )
    customer_since = models.DateField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(credit_score__gte=300, credit_score__lte=850),
                name="bank_creditprofile_score_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Credit profile of {self.customer}"
