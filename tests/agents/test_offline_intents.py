"""The offline model picks every banking skill, with its arguments, from how people ask."""

from datetime import date

import pytest

from agents.offline.intents import clauses, detect
from agents.tools import BANK_TOOL_NAMES

ALL = set(BANK_TOOL_NAMES)
TODAY = date(2026, 11, 22)  # a Sunday


@pytest.mark.parametrize(
    ("text", "tool", "arguments"),
    [
        (
            "what would my monthly payment be on a $20,000 car loan over 5 years",
            "calculate_loan_payment",
            {"amount": 20000.0, "term_months": 60, "kind": "auto"},
        ),
        (
            "how much would a 300k mortgage cost per month at 6.5% for 30 years",
            "calculate_loan_payment",
            {"amount": 300000.0, "annual_rate_percent": 6.5, "term_months": 360, "kind": "home"},
        ),
        (
            "am I pre-qualified for a personal loan",
            "check_loan_prequalification",
            {"kind": "personal"},
        ),
        (
            "do i qualify for an auto loan of 25000 dollars",
            "check_loan_prequalification",
            {"kind": "auto", "amount": 25000.0},
        ),
        ("how much can I borrow for a car", "check_loan_prequalification", {"kind": "auto"}),
        (
            "what did I spend at amazon last month",
            "find_transactions",
            {"merchant": "amazon", "start_date": "2026-10-01", "end_date": "2026-10-31"},
        ),
        ("show my amazon purchases", "find_transactions", {"merchant": "amazon"}),
        ("show me my recent transactions", "find_transactions", {}),
        (
            "any charges over $100 this week",
            "find_transactions",
            {"start_date": "2026-11-16", "end_date": "2026-11-22", "min_amount": 100.0},
        ),
        (
            "charges from starbucks between oct 1 and oct 15",
            "find_transactions",
            {"merchant": "starbucks", "start_date": "2026-10-01", "end_date": "2026-10-15"},
        ),
        (
            "what did I spend on my visa last week",
            "find_transactions",
            {"start_date": "2026-11-09", "end_date": "2026-11-15", "account": "card"},
        ),
        ("did my paycheck come in", "find_transactions", {"merchant": "income"}),
        ("freeze my card", "freeze_card", {}),
        ("can you frezze my credit card", "freeze_card", {}),
        ("please lock my visa ending 4 5 6 7", "freeze_card", {"card_last4": "4567"}),
        ("unfreeze my mastercard ending 2222", "unfreeze_card", {"card_last4": "2222"}),
        ("turn my card back on", "unfreeze_card", {}),
        ("I lost my card", "report_card_lost", {}),
        ("my wallet was stolen", "report_card_lost", {"stolen": True}),
        (
            "I need a replacement card for the one ending 1111",
            "report_card_lost",
            {"card_last4": "1111"},
        ),
        ("pay the minimum on my card", "pay_credit_card", {"pay_option": "minimum"}),
        (
            "pay my statement balance from savings",
            "pay_credit_card",
            {"pay_option": "statement", "from_account": "savings"},
        ),
        (
            "pay $200 toward my visa on friday",
            "pay_credit_card",
            {"amount": 200.0, "pay_on": "2026-11-27"},
        ),
        (
            "make a payment of two hundred fifty dollars on december 1st",
            "pay_credit_card",
            {"amount": 250.0, "pay_on": "2026-12-01"},
        ),
        (
            "transfer $500 from savings to checking",
            "transfer_between_accounts",
            {"amount": 500.0, "from_account": "savings", "to_account": "checking"},
        ),
        (
            "move two hundred dollars into my savings",
            "transfer_between_accounts",
            {"amount": 200.0, "to_account": "savings"},
        ),
        (
            "how much is the overdraft fee",
            "search_bank_faq",
            {"question": "how much is the overdraft fee"},
        ),
        (
            "what time do you open on saturday",
            "search_bank_faq",
            {"question": "what time do you open on saturday"},
        ),
        ("how do i freeze my card", "search_bank_faq", {"question": "how do i freeze my card"}),
        ("can I talk to a human", "transfer_to_human", {}),
        ("transfer me to a representative", "transfer_to_human", {}),
        ("is my card frozen", "get_credit_card_summary", {}),
    ],
)
def test_each_skill_is_chosen_from_the_words(text, tool, arguments):
    assert detect(text, available=ALL, today=TODAY) == [(tool, arguments)]


@pytest.mark.parametrize(
    ("text", "not_this"),
    [
        ("when do I have to pay my card", "pay_credit_card"),
        ("how much do I owe on my card ending 4567", "find_transactions"),
        ("what are you saying", "pay_credit_card"),
        ("what's the cause of this charge", "freeze_card"),
    ],
)
def test_words_that_look_alike_do_not_trigger_actions(text, not_this):
    assert not_this not in [tool for tool, _ in detect(text, available=ALL, today=TODAY)]


def test_an_and_inside_a_period_or_an_amount_does_not_split_the_request():
    assert clauses("spent between march 1 and march 15") == ["spent between march 1 and march 15"]
    assert clauses("pay 50 dollars and 20 cents") == ["pay 50 dollars and 20 cents"]
    assert clauses("freeze my card and what is my balance") == [
        "freeze my card",
        "what is my balance",
    ]


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        # The bank's terms are public: its documents answer them.
        ("what's the interest rate on the High-Yield Savings account", "search_bank_faq"),
        ("can I pay off my loan early without a penalty", "search_bank_faq"),
        ("how much does a stop payment cost", "search_bank_faq"),
        ("is there a fee to close my account", "search_bank_faq"),
        ("what apy do you pay on savings", "search_bank_faq"),
        # ...but loan rates, loan calculations and the caller's own money are not terms.
        ("what are your mortgage rates", "list_loan_products"),
        ("how much would a 300k mortgage cost per month", "calculate_loan_payment"),
        ("what's my savings balance", "get_account_balances"),
        ("pay my card early", "pay_credit_card"),
    ],
)
def test_questions_about_the_banks_terms_go_to_its_documents(text, tool):
    assert detect(text, available=ALL, today=TODAY)[0][0] == tool


@pytest.mark.parametrize(
    "text",
    [
        "My visa was stolen, please block it and send me a new one",
        "someone stole my mastercard, lock it and mail me a replacement",
    ],
)
def test_a_stolen_card_with_block_and_replace_is_one_report(text):
    assert detect(text, available=ALL, today=TODAY) == [("report_card_lost", {"stolen": True})]


@pytest.mark.parametrize("text", ["what were my last few transactions", "my last couple of purchases"])
def test_how_many_is_no_merchant(text):
    assert detect(text, available=ALL, today=TODAY) == [("find_transactions", {})]
