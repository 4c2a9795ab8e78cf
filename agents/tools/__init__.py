"""The bank's tools, as the model sees them.

A tool's signature and docstring are its prompt. The caller is bound to each tool per
request (``tools_for``) outside the model's reach: the model can choose *which* tool to
call and with which arguments, never *whose* data it touches. What the caller must be
(verified) and must say (yes, in a later message) is checked in the tools' code.
"""

import inspect
from functools import partial

from llama_index.core.tools import FunctionTool, ToolMetadata

from agents.caller import CallerContext
from agents.tools.accounts import find_transactions, get_account_balances
from agents.tools.actions import cancel_pending_action, confirm_pending_action
from agents.tools.base import BankTool
from agents.tools.cards import freeze_card, get_credit_card_summary, report_card_lost, unfreeze_card
from agents.tools.faq import search_bank_faq
from agents.tools.identity import transfer_to_human, verify_identity
from agents.tools.loans import (
    calculate_loan_payment,
    check_loan_prequalification,
    list_loan_products,
)
from agents.tools.payments import pay_credit_card, transfer_between_accounts

BANK_TOOLS: tuple[BankTool, ...] = (
    list_loan_products,
    calculate_loan_payment,
    check_loan_prequalification,
    get_account_balances,
    find_transactions,
    get_credit_card_summary,
    freeze_card,
    unfreeze_card,
    report_card_lost,
    pay_credit_card,
    transfer_between_accounts,
    confirm_pending_action,
    cancel_pending_action,
    verify_identity,
    search_bank_faq,
    transfer_to_human,
)


def _metadata(fn: BankTool) -> ToolMetadata:
    # The schema is derived once, without the bound caller, so per-request binding is cheap.
    return FunctionTool.from_defaults(async_fn=fn, partial_params={"caller": None}).metadata


def _bound_signature(fn: BankTool) -> inspect.Signature:
    return inspect.signature(partial(fn, CallerContext()))


_METADATA = {fn: _metadata(fn) for fn in BANK_TOOLS}
# FunctionTool inspects its function's signature on every construction; a bound tool
# carries the one computed here (inspect.signature reads ``__signature__`` first).
_SIGNATURES = {fn: _bound_signature(fn) for fn in BANK_TOOLS}
BANK_TOOL_NAMES = frozenset(meta.get_name() for meta in _METADATA.values())


def _bind(fn: BankTool, caller: CallerContext) -> FunctionTool:
    bound = partial(fn, caller)
    bound.__signature__ = _SIGNATURES[fn]
    return FunctionTool(async_fn=bound, metadata=_METADATA[fn])


def tools_for(caller: CallerContext) -> list[FunctionTool]:
    """The bank's tools bound to one caller."""
    return [_bind(fn, caller) for fn in BANK_TOOLS]
