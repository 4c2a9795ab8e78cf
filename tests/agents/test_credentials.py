"""Reading verification details and yes/no answers from what callers say."""

from datetime import date

import pytest

from agents.language import Credentials, is_affirmative, is_negative, parse_credentials, said_details

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card ending 4567, born March 14 1988", Credentials("4567", date(1988, 3, 14))),
        ("4 5 6 7 and my zip is 94110", Credentials("4567", None, "94110")),
        (
            "last four four five six seven, date of birth 3/14/1988",
            Credentials("4567", date(1988, 3, 14)),
        ),
        (
            "four five six seven, march fourteenth nineteen eighty eight",
            Credentials("4567", date(1988, 3, 14)),
        ),
        (
            "my last 4 are 1111 and I was born on the twenty first of july 1995",
            Credentials("1111", date(1995, 7, 21)),
        ),
        ("my postcode is SE1 7PB and my card ends 7788", Credentials("7788", None, "SE1 7PB")),
        (
            "the last four are 8899 and my zip code is nine four one zero three",
            Credentials("8899", None, "94103"),
        ),
        ("my number is 415 555 0101, card 4567, zip 94110", Credentials("4567", None, "94110")),
        ("card 4567 dob 03/14/88", Credentials("4567", date(1988, 3, 14))),
        ("my birthday is 1988-03-14", Credentials(None, date(1988, 3, 14))),
        ("4567", Credentials("4567")),
    ],
)
def test_verification_details_are_read_from_the_words(text, expected):
    assert parse_credentials(text, today=TODAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "born march 14",
        "born on march 14 2030",
        "what's my balance",
        "pay $4567 now",
        "I was born in 1988",
    ],
)
def test_no_birth_date_without_a_past_day_and_year(text):
    assert parse_credentials(text, today=TODAY).date_of_birth is None


def test_complete_means_a_card_and_one_more_detail():
    assert Credentials("4567", postal_code="94110").complete
    assert not Credentials("4567").complete
    assert not Credentials(None, date(1988, 3, 14), "94110").complete


@pytest.mark.parametrize(
    "text", ["yes", "Yes, freeze it.", "yeah go ahead", "ok", "sure", "YES PLEASE", "do it"]
)
def test_yes(text):
    assert is_affirmative(text)


@pytest.mark.parametrize(
    "text", ["no", "no, don't", "yes... wait, no", "cancel that", "hold on", "never mind"]
)
def test_no_and_anything_held_back(text):
    assert is_negative(text)
    assert not is_affirmative(text)


@pytest.mark.parametrize("text", ["what's my balance", "freeze my card", "", "yesterday"])
def test_neither(text):
    assert not is_affirmative(text)


def test_said_details_are_every_detail_the_caller_said_in_any_message():
    said = said_details(
        [
            "my number is 415 555 0101",
            "last four four five six seven, born march fourteenth nineteen eighty eight",
            "or maybe the card ending 8899? zip nine four one one oh",
            "postcode se1 7pb",
        ],
        today=TODAY,
    )

    assert said.card_last4s == {"4567", "8899"}  # not the phone's 0101, nor the year 1988
    assert said.birth_dates == {date(1988, 3, 14)}
    assert said.has_postal_code("94110") and said.has_postal_code("94110-1234")
    assert said.has_postal_code("SE1 7PB") and not said.has_postal_code("SE1 7PC")


def test_nothing_is_said_when_the_caller_said_nothing_of_the_kind():
    said = said_details(["what's my balance?", "yes please"], today=TODAY)

    assert not (said.card_last4s or said.birth_dates or said.postal_codes)
