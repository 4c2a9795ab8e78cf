"""Writes to the bank's data, one module per concern; the demo seeding is re-exported here
because scripts and tests know it as ``bank.services``."""

from bank.services.seed import (
    demo_bank_seed,
    demo_customers_describe,
    demo_loan_products_describe,
)

__all__ = ["demo_bank_seed", "demo_customers_describe", "demo_loan_products_describe"]
