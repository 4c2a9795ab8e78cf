from django.db import models
from django.db.models import F, Q

from bank.models.fields import money_field


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
    min_amount = money_field()
    max_amount = money_field()
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
