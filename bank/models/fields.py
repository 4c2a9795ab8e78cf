"""Field and constraint shapes shared by the bank's models."""

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

LAST4_PATTERN = r"^[0-9]{4}$"
last4_validator = RegexValidator(LAST4_PATTERN, "Enter exactly the last four digits.")


def last4_field() -> models.CharField:
    return models.CharField(max_length=4, validators=[last4_validator])


def money_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=12, decimal_places=2, **kwargs)


def last4_constraint(model_name: str) -> models.CheckConstraint:
    # Validators only run in forms and full_clean(); the database refuses the rest.
    return models.CheckConstraint(
        condition=Q(last4__regex=LAST4_PATTERN), name=f"bank_{model_name}_last4_digits"
    )
