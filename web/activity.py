"""What the chat page says while a bank tool runs ("checking your balances…").

One phrase per tool of ``agents.tools.BANK_TOOL_NAMES`` (a test keeps the two in step);
the page shows the phrase when the session stream reports the tool started, and marks it
done when the tool finished.
"""

TOOL_ACTIVITY: dict[str, str] = {
    "calculate_loan_payment": "working out the monthly payment",
    "cancel_pending_action": "cancelling the request",
    "check_loan_prequalification": "checking your pre-qualification",
    "confirm_pending_action": "carrying out your request",
    "find_transactions": "looking through your transactions",
    "freeze_card": "preparing to freeze your card",
    "get_account_balances": "checking your balances",
    "get_credit_card_summary": "checking your credit card",
    "list_loan_products": "looking up our loan products",
    "pay_credit_card": "preparing the card payment",
    "report_card_lost": "preparing the lost-card report",
    "search_bank_faq": "searching the bank's guides",
    "transfer_between_accounts": "preparing the transfer",
    "transfer_to_human": "finding a colleague",
    "unfreeze_card": "preparing to unfreeze your card",
    "verify_identity": "verifying your identity",
}
# A tool without a phrase of its own (a client's tool, or one added later).
TOOL_ACTIVITY_DEFAULT = "working on it"
