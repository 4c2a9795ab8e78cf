"""The bank's data as the assistant's tools read it.

Card and account numbers are never stored: ``last4`` is all the bank shares with the
assistant, so it is all that can leak into an answer, a log line or the admin.
"""

from decimal import Decimal

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q

LAST4_PATTERN = r"^[0-9]{4}$"
last4_validator = RegexValidator(LAST4_PATTERN, "Enter exactly the last four digits.")


def _last4_field() -> models.CharField:
    return models.CharField(max_length=4, validators=[last4_validator])


def _money_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=12, decimal_places=2, **kwargs)


def _last4_constraint(model_name: str) -> models.CheckConstraint:
    # Validators only run in forms and full_clean(); the database refuses the rest.
    return models.CheckConstraint(
        condition=Q(last4__regex=LAST4_PATTERN), name=f"bank_{model_name}_last4_digits"
    )


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


class Account(models.Model):
    class Kind(models.TextChoices):
        CHECKING = "checking", "Checking"
        SAVINGS = "savings", "Savings"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="accounts")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    nickname = models.CharField(max_length=100)
    last4 = _last4_field()
    balance = _money_field()
    currency = models.CharField(max_length=3, default="USD")

    class Meta:
        ordering = ("kind", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("customer", "last4"), name="bank_account_unique_last4_per_customer"
            ),
            _last4_constraint("account"),
        ]

    def __str__(self) -> str:
        return f"{self.nickname} ending {self.last4}"


class CreditCard(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        FROZEN = "frozen", "Frozen"
        LOST = "lost", "Reported lost"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="cards")
    brand = models.CharField(max_length=32)
    last4 = _last4_field()
    credit_limit = _money_field(validators=[MinValueValidator(Decimal("0"))])
    current_balance = _money_field()
    statement_balance = _money_field()
    minimum_payment = _money_field(validators=[MinValueValidator(Decimal("0"))])
    payment_due_date = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    currency = models.CharField(max_length=3, default="USD")

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(
                fields=("customer", "last4"), name="bank_creditcard_unique_last4_per_customer"
            ),
            _last4_constraint("creditcard"),
        ]

    def __str__(self) -> str:
        return f"{self.brand} ending {self.last4}"

    @property
    def available_credit(self) -> Decimal:
        return self.credit_limit - self.current_balance


class LoanProduct(models.Model):
    class Kind(models.TextChoices):
        PERSONAL = "personal", "Personal"
        AUTO = "auto", "Auto"
        HOME = "home", "Home (mortgage)"
        HOME_EQUITY = "home_equity", "Home equity"
        STUDENT = "student", "Student"

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    apr_from = models.DecimalField(max_digits=5, decimal_places=2, help_text="Percent")
    apr_to = models.DecimalField(max_digits=5, decimal_places=2, help_text="Percent")
    min_amount = _money_field()
    max_amount = _money_field()
    min_term_months = models.PositiveIntegerField()
    max_term_months = models.PositiveIntegerField()
    description = models.TextField()
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ("name",)
        constraints = [
            models.CheckConstraint(
                condition=Q(apr_from__lte=F("apr_to")), name="bank_loanproduct_apr_range"
            ),
            models.CheckConstraint(
                condition=Q(min_amount__lte=F("max_amount")), name="bank_loanproduct_amount_range"
            ),
            models.CheckConstraint(
                condition=Q(min_term_months__lte=F("max_term_months")),
                name="bank_loanproduct_term_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name
