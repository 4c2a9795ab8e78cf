"""The bank's data as the assistant's tools read and change it."""

from bank.models.actions import PendingAction
from bank.models.customers import Account, CreditCard, CreditProfile, Customer
from bank.models.fields import LAST4_PATTERN, last4_validator
from bank.models.loans import LoanProduct
from bank.models.sessions import CallerSession, VerificationAttempt, VerificationLock
from bank.models.transactions import Transaction

__all__ = [
    "LAST4_PATTERN",
    "Account",
    "CallerSession",
    "CreditCard",
    "CreditProfile",
    "Customer",
    "LoanProduct",
    "PendingAction",
    "Transaction",
    "VerificationAttempt",
    "VerificationLock",
    "last4_validator",
]
