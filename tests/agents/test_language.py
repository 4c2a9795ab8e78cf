"""What the offline model reads from customers' words: typed, spoken, misspelled."""

from datetime import date
from decimal import Decimal

import pytest

from agents import language

TODAY = date(2026, 3, 11)  # a Wednesday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  What’s   my BALANCE?! ", "what's my balance"),
        ("Send “$1,250.50” — today", "send $1,250.50 - today"),
        ("call (415) 555–0101", "call 415 555-0101"),
        ("rate: 6.5% on 12/03", "rate: 6.5% on 12/03"),
        ("£300 or €40 to +44 20", "£300 or €40 to +44 20"),
        ("'quoted' customers' cards", "quoted customers cards"),
    ],
)
def test_normalize_keeps_only_what_carries_meaning(text, expected):
    assert language.normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ending in four five six seven", "ending in 4567"),
        ("four oh four", "404"),
        ("it's double five triple oh", "it's 55000"),
        ("o two", "02"),
        ("forty five sixty seven", "4567"),
        ("twenty twenty five", "2025"),
        ("twelve hundred", "1200"),
        ("two thousand five hundred and fifty", "2550"),
        ("one point five", "1.5"),
        ("forty two", "42"),
        ("forty-two", "42"),
        ("a hundred bucks", "100 bucks"),
        ("one million two hundred thousand", "1200000"),
        ("2 thousand dollars", "2000 dollars"),
        ("1.5 million", "1500000"),
        ("seven and a half percent", "7.5 percent"),
        ("one of my cards", "1 of my cards"),
        ("on the fifteenth", "on the 15th"),
        ("december twenty first", "december 21st"),
        ("the third of may", "the 3rd of may"),
        ("five, six", "5, 6"),
    ],
)
def test_words_to_digits_rewrites_spoken_numbers(text, expected):
    assert language.words_to_digits(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "someone often called, tone deaf",
        "oh I see",
        "double check my balance",
        "what's the point",
        "wait a second",
        "my first card",
        "anyone can do it",
    ],
)
def test_words_to_digits_leaves_ordinary_words_alone(text):
    assert language.words_to_digits(text) == language.normalize(text)


@pytest.mark.parametrize(
    "text",
    [
        "card ending 4567",
        "the card ending in four five six seven",
        "the one ending with 4 5 6 7",
        "last four 4567",
        "the last four digits are 4567",
        "last four four five six seven",
        "my visa 4567",
        "card 4567",
        "debit card number 45-67",
        "block my 4567 card",
        "xxxx-4567",
        "**** **** **** 4567",
        "the one …4567",
        "Card ending in forty five sixty seven, please",
    ],
)
def test_parse_card_last4_reads_the_ending_named(text):
    assert language.parse_card_last4(text) == "4567"


@pytest.mark.parametrize(
    "text",
    [
        "what happened in 2025",
        "umm... 2025 was a bad year",
        "pay $4567",
        "send 4567 dollars to my credit card",
        "my card expires in 2026",
        "freeze my card",
        "pay card for $4567",
        "card 45678",
        "what's my balance",
    ],
)
def test_parse_card_last4_ignores_years_amounts_and_other_numbers(text):
    assert language.parse_card_last4(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$1,250.50", "1250.50"),
        ("pay 1250 dollars", "1250"),
        ("250 bucks", "250"),
        ("two hundred fifty dollars", "250"),
        ("fifty dollars and twenty cents", "50.20"),
        ("1.2k", "1200"),
        ("five grand", "5000"),
        ("£300 to my sister", "300"),
        ("EUR 40", "40"),
        ("40 euros", "40"),
        ("twenty cents", "0.20"),
        ("send a hundred bucks to john", "100"),
        ("pay 300", "300"),
        ("borrow 20000", "20000"),
        ("borrow twenty thousand over 5 years at 6%", "20000"),
        ("pay 300 with the card ending 4567", "300"),
        ("transfer 500 from checking to savings on the 15th", "500"),
        ("pay 300 on december 3", "300"),
        ("in 2025 I paid $80 on card 4567", "80"),
        ("send 50 dollars to 415 555 0101", "50"),
    ],
)
def test_parse_amount_reads_money(text, expected):
    assert language.parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text",
    [
        "card ending 4567",
        "pay my card 4567",
        "what did I spend in 2025",
        "send money to 415 555 0101",
        "what is 300",
        "pay 300 and 400",
        "show me the last 30 days",
        "balance please",
        "pay $" + "9" * 40,
    ],
)
def test_parse_amount_takes_no_card_year_phone_or_unanchored_number(text):
    assert language.parse_amount(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("36 months", 36),
        ("over 5 years", 60),
        ("a five year loan", 60),
        ("5-year term", 60),
        ("30 year mortgage", 360),
        ("sixty-month auto loan", 60),
        ("two and a half years", 30),
        ("for a year", 12),
    ],
)
def test_parse_term_months(text, expected):
    assert language.parse_term_months(text) == expected


@pytest.mark.parametrize(
    "text", ["the last 3 months", "opened 2 years ago", "in 2025", "borrow 20000"]
)
def test_parse_term_months_ignores_past_periods_and_plain_numbers(text):
    assert language.parse_term_months(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6.5%", "6.5"),
        ("at 6.5 percent", "6.5"),
        ("six point five percent", "6.5"),
        ("apr of 7", "7"),
        ("interest rate is 4.25", "4.25"),
        ("seven and a half percent", "7.5"),
    ],
)
def test_parse_rate_percent(text, expected):
    assert language.parse_rate_percent(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text",
    ["interest rate for 5 years", "pay 300 dollars", "what is my rate", "rate of 300 percent"],
)
def test_parse_rate_percent_needs_a_rate(text):
    assert language.parse_rate_percent(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", TODAY),
        ("pay it tomorrow", date(2026, 3, 12)),
        ("tommorow", date(2026, 3, 12)),
        ("the day after tomorrow", date(2026, 3, 13)),
        ("on friday", date(2026, 3, 13)),
        ("next friday", date(2026, 3, 13)),
        ("on wednesday", date(2026, 3, 18)),
        ("pay on wensday", date(2026, 3, 18)),
        ("in 5 days", date(2026, 3, 16)),
        ("in two weeks", date(2026, 3, 25)),
        ("a month from now", date(2026, 4, 11)),
        ("on the 15th", date(2026, 3, 15)),
        ("on the fifteenth", date(2026, 3, 15)),
        ("by the 5th", date(2026, 4, 5)),
        ("December 3", date(2026, 12, 3)),
        ("dec 3rd", date(2026, 12, 3)),
        ("3 december", date(2026, 12, 3)),
        ("the third of december", date(2026, 12, 3)),
        ("march 10", date(2027, 3, 10)),
        ("febuary second", date(2027, 2, 2)),
        ("12/03/2026", date(2026, 12, 3)),
        ("2026-12-03", date(2026, 12, 3)),
    ],
)
def test_parse_date_reads_the_day_meant(text, expected):
    assert language.parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize(
    "text", ["pay my bill", "feb 30", "pay 300 dollars", "pay the 2 bills", "in 99999999 days"]
)
def test_parse_date_without_a_date(text):
    assert language.parse_date(text, today=TODAY) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("last month", (date(2026, 2, 1), date(2026, 2, 28))),
        ("this month", (date(2026, 3, 1), TODAY)),
        ("last week", (date(2026, 3, 2), date(2026, 3, 8))),
        ("this week", (date(2026, 3, 9), TODAY)),
        ("past 30 days", (date(2026, 2, 10), TODAY)),
        ("last thirty days", (date(2026, 2, 10), TODAY)),
        ("last 2 weeks", (date(2026, 2, 26), TODAY)),
        ("past 3 months", (date(2025, 12, 12), TODAY)),
        ("yesterday", (date(2026, 3, 10), date(2026, 3, 10))),
        ("what did I spend today", (TODAY, TODAY)),
        ("since March 1", (date(2026, 3, 1), TODAY)),
        ("since monday", (date(2026, 3, 9), TODAY)),
        ("since january", (date(2026, 1, 1), TODAY)),
        ("between March 1 and March 15", (date(2026, 3, 1), date(2026, 3, 15))),
        ("between march 1 and 15", (date(2026, 3, 1), date(2026, 3, 15))),
        ("from december 20 to january 5", (date(2025, 12, 20), date(2026, 1, 5))),
        ("from the 1st to the 10th", (date(2026, 3, 1), date(2026, 3, 10))),
        ("in October", (date(2025, 10, 1), date(2025, 10, 31))),
        ("spending in march", (date(2026, 3, 1), TODAY)),
        ("october 2024", (date(2024, 10, 1), date(2024, 10, 31))),
        ("this year", (date(2026, 1, 1), TODAY)),
        ("last year", (date(2025, 1, 1), date(2025, 12, 31))),
        ("on march 3", (date(2026, 3, 3), date(2026, 3, 3))),
        ("last friday", (date(2026, 3, 6), date(2026, 3, 6))),
        ("next friday", (date(2026, 3, 13), date(2026, 3, 13))),
    ],
)
def test_parse_date_range_reads_the_period_meant(text, expected):
    assert language.parse_date_range(text, today=TODAY) == expected


@pytest.mark.parametrize(
    "text",
    ["what did I spend", "may I see my transactions", "I don't remember", "past 10000000 months"],
)
def test_parse_date_range_without_a_period(text):
    assert language.parse_date_range(text, today=TODAY) is None


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("my number is 415 555 0101", "US", "+14155550101"),
        ("(415) 555-0101", "US", "+14155550101"),
        ("call 4155550101", "us", "+14155550101"),
        ("it's four one five five five five zero one zero one", "US", "+14155550101"),
        ("four fifteen five fifty five oh one oh one", "US", "+14155550101"),
        ("four one five, five five five, zero one zero one", "US", "+14155550101"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("plus four four two zero seven nine four six zero nine five eight", "US", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
    ],
)
def test_find_phone_number_in_e164(text, region, expected):
    assert language.find_phone_number(text, region=region) == expected


@pytest.mark.parametrize(
    "text",
    [
        "card ending 4567",
        "pay $1,250.50",
        "in 2025",
        "555 0101",
        "wire $4155550101",
        "pay 1,250,000,000 dollars",
        "what's my balance",
    ],
)
def test_find_phone_number_ignores_card_endings_amounts_and_fragments(text):
    assert language.find_phone_number(text, region="US") is None


@pytest.mark.parametrize(
    ("text", "phrases"),
    [
        ("whats my balnace", ("balance",)),
        ("i want to tranfer money", ("transfer",)),
        ("email my statment", ("statement",)),
        ("show all my cards", ("card",)),
        ("freze my card", ("freeze my card",)),
        ("Lost my debit card!", ("stolen", "lost my")),
        ("How much is my MORTAGE", ("mortgage",)),
    ],
)
def test_mentions_finds_phrases_despite_typos(text, phrases):
    assert language.mentions(text, *phrases)


@pytest.mark.parametrize(
    ("text", "phrases"),
    [
        ("the ton of fees", ("tone",)),
        ("often", ("ten",)),
        ("block it", ("lock",)),
        ("freeze the card", ("freeze card",)),
        ("card my freeze", ("freeze my card",)),
        ("how much money", ("monday",)),
        ("", ("balance",)),
    ],
)
def test_mentions_needs_whole_words_in_order(text, phrases):
    assert not language.mentions(text, *phrases)


def test_mentions_without_typo_tolerance_is_exact():
    assert not language.mentions("whats my balnace", "balance", typo_tolerance=False)
    assert language.mentions("whats my balance", "balance", typo_tolerance=False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "can you pay my credit card bill of three hundred and twenty five dollars on the "
            "fifteenth",
            {"amount": Decimal("325"), "date": date(2026, 3, 15), "card": None},
        ),
        (
            "i wanna send fifteen hundred bucks from the card ending forty five sixty seven friday",
            {"amount": Decimal("1500"), "date": date(2026, 3, 13), "card": "4567"},
        ),
        (
            "Please send $45.99 to Alex tomorrow, my number is (415) 555-0101",
            {"amount": Decimal("45.99"), "date": date(2026, 3, 12), "card": None},
        ),
    ],
)
def test_one_sentence_yields_every_argument(text, expected):
    assert language.parse_amount(text) == expected["amount"]
    assert language.parse_date(text, today=TODAY) == expected["date"]
    assert language.parse_card_last4(text) == expected["card"]


def test_a_loan_request_yields_amount_term_and_rate():
    text = "i want a loan of fifteen thousand for three years at six point nine percent"
    assert language.parse_amount(text) == Decimal("15000")
    assert language.parse_term_months(text) == 36
    assert language.parse_rate_percent(text) == Decimal("6.9")


@pytest.mark.parametrize(
    "text",
    [
        "What's the CVV and the PIN for my card ending 4567?",
        "Read me the full 16-digit number on my Visa",
        "what is the number on the front of my card",
        "whats my card number",
        "give me all sixteen digits of my card",
        "what is the expiration date on my visa ending 4567",
        "I forgot my pin",
    ],
)
def test_asking_for_a_cards_secrets(text):
    assert language.asks_for_card_secrets(text)


@pytest.mark.parametrize(
    "text",
    [
        "my card number ends in 4567",
        "the last four of my card number are 4567",
        "card number ending 4567 what is my balance",
        "freeze my card ending 4567",
        "what is my account number",
        "I spent 16 dollars at the pinball arcade",
    ],
)
def test_naming_a_card_is_not_asking_for_its_secrets(text):
    assert not language.asks_for_card_secrets(text)
