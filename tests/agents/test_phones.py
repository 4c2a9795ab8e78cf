import pytest

from agents.language import phone_normalize


@pytest.mark.parametrize(
    "raw",
    [
        "(415) 555-0101",
        "415.555.0101",
        "415-555-0101",
        "4155550101",
        "1-415-555-0101",
        "+1 415 555 0101",
        "+14155550101",
        "  +1 (415) 555-0101  ",
        "011 1 415 555 0101",
        "00 1 415 555 0101",
        "tel:+1-415-555-0101",
        "＋１ ４１５ ５５５ ０１０１",
    ],
)
def test_us_formats_normalize_to_e164(raw):
    assert phone_normalize(raw, region="US") == "+14155550101"


@pytest.mark.parametrize(
    "raw",
    ["+44 20 7946 0958", "00442079460958", "0044 20 7946 0958", "011 44 20 7946 0958"],
)
def test_international_formats_normalize_from_a_us_default(raw):
    assert phone_normalize(raw, region="US") == "+442079460958"


def test_national_format_is_read_with_the_given_region():
    assert phone_normalize("020 7946 0958", region="GB") == "+442079460958"
    assert phone_normalize("(415) 555-0101", region="GB") != "+14155550101"


def test_fictional_555_numbers_are_accepted():
    assert phone_normalize("(415) 555-0199", region="US") == "+14155550199"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "hello",
        "four one five five five five zero one zero one",
        "12",
        "555-0101",
        "+1 415 555 01012222",
        "+999 123456",
        "+",
        "00",
        "9" * 300,
        "<script>alert(1)</script>",
        "'; DROP TABLE bank_customer; --",
    ],
)
def test_garbage_and_incomplete_numbers_give_none(raw):
    assert phone_normalize(raw, region="US") is None


def test_unknown_region_only_reads_numbers_with_a_country_code():
    assert phone_normalize("415 555 0101", region="ZZ") is None
    assert phone_normalize("+1 415 555 0101", region="ZZ") == "+14155550101"
