"""Card numbers masked to their last four digits; phones, amounts, dates and references not."""

import io
import json
import logging

import pytest
from stdnum import luhn

from fintalk.masking import (
    CardNumberLogFilter,
    CardNumberStreamFilter,
    mask_card_numbers,
    mask_card_numbers_in,
)
from fintalk.observability import JsonFormatter


def card_number(length: int, prefix: str = "4539") -> str:
    """A Luhn-valid number of ``length`` digits."""
    body = (prefix + "578763621486123456")[: length - 1]
    return body + luhn.calc_check_digit(body)


def grouped(number: str, separator: str) -> str:
    return separator.join(number[i : i + 4] for i in range(0, len(number), 4))


SEPARATORS = ["", " ", "-", ".", ",", "/", " - ", ", ", "\u2013", "\u00a0"]
SPOKEN = "zero one two three four five six seven eight nine".split()
SHAPES = [
    *(grouped(card_number(n), sep) for n in range(13, 20) for sep in SEPARATORS),
    "3782 822463 10005",  # American Express, 4-6-5
    "3056 930902 5904",  # Diners Club, 4-6-4
    " ".join(SPOKEN[int(d)] for d in card_number(16)),  # as a transcriber writes it
    ", ".join(" ".join(SPOKEN[int(d)] for d in g) for g in grouped(card_number(16), " ").split()),
    "Four Five Three Nine five seven eight seven six three six two one four eight " + SPOKEN[int(card_number(16)[-1])],
    " ".join(card_number(16)),  # digit by digit
    "\uff14\uff15\uff13\uff19" + card_number(16)[4:],  # full-width digits
]


@pytest.mark.parametrize("shape", SHAPES)
def test_every_card_number_shape_is_masked_to_its_last_four(shape):
    digits = "".join(str(int(ch)) for ch in shape if ch.isdigit()) or card_number(16)

    assert mask_card_numbers(f"my card is {shape}, thanks") == (
        f"my card is card ending {digits[-4:]}, thanks"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x4539578763621486y", "xcard ending 1486y"),
        (
            "cards 4111111111111111 and 5555 5555 5555 4444",
            "cards card ending 1111 and card ending 4444",
        ),
        ("call 415 555 0101 or use 4539 5787 6362 1486", "call 415 555 0101 or use card ending 1486"),
        ("on 2026-11-22 4539-5787-6362-1486 paid", "on 2026-11-22 card ending 1486 paid"),
    ],
)
def test_card_numbers_beside_other_numbers(text, expected):
    assert mask_card_numbers(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "+1 415 555 0101",
        "(415) 555-0101",
        "415.555.0101",
        "+44 20 7946 0958",
        "+447911123456",
        "0044 20 7946 0958",
        "four one five five five five zero one zero one",
        "$1,234.56",
        "$12,345,678.90",
        "1,000,000 dollars",
        "2026-11-22",
        "11/22/2026",
        "2026-11-01/2026-11-30",
        "from 11/01/2026 to 11/30/2026",
        "12:30",
        "FT-ABCD2345",
        "reference FT-7K2M9QXP",
        "routing number 021000021",
        "account 000123456789",
        "card ending 4567",
        "4539 5787 6362 1487",  # fails the Luhn check
        "123456789012345678901234",  # too long to be a card number
        "someone often phoned",
        "",
    ],
)
def test_phone_numbers_amounts_dates_and_references_are_left_alone(text):
    assert mask_card_numbers(text) == text


def test_structures_are_masked_everywhere_inside():
    value = {"card": "4539 5787 6362 1486", "n": 4539578763621486, "list": ["5555555555554444", 3]}

    assert mask_card_numbers_in(value) == {
        "card": "card ending 1486",
        "n": "card ending 1486",
        "list": ["card ending 4444", 3],
    }


def _streamed(text: str, size: int) -> str:
    cards = CardNumberStreamFilter()
    sent = [cards.feed(text[i : i + size]) for i in range(0, len(text), size)]
    return "".join(sent) + cards.flush()


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, 11])
@pytest.mark.parametrize("shape", SHAPES[::3] + SHAPES[-5:])
def test_a_card_number_split_across_chunks_is_still_masked(shape, size):
    text = f"Your card {shape} is frozen."

    assert _streamed(text, size) == mask_card_numbers(text)


def test_card_numbers_split_at_every_place_among_other_numbers_are_masked():
    # Spoken and written numbers, amounts and words, cut at each position in turn into a
    # head and word-sized chunks: what is sent equals the whole text masked.
    spoken = " ".join(SPOKEN[int(d)] for d in card_number(16))
    text = f"Card {grouped(card_number(16), ' ')} owes $1,234.56; the other, {spoken}, is fine. Two more."
    for cut in range(len(text)):
        cards = CardNumberStreamFilter()
        sent = [cards.feed(text[:cut])] + [cards.feed(word) for word in text[cut:].split(" ")[:1]]
        sent += [cards.feed(" " + word) for word in text[cut:].split(" ")[1:]]
        assert "".join(sent) + cards.flush() == mask_card_numbers(text), cut


def test_text_without_numbers_is_not_held_back():
    cards = CardNumberStreamFilter()

    assert [cards.feed(word) for word in ["Your", " card", " is", " frozen", "."]] == [
        "Your", " card", " is", " frozen", ".",
    ]  # fmt: skip


def test_a_number_is_held_only_until_it_ends():
    cards = CardNumberStreamFilter()

    assert cards.feed("You owe $12") == "You owe $"
    assert cards.feed("5.40") == ""
    assert cards.feed(" today") == "125.40 today"
    assert cards.flush() == ""


def test_text_held_when_the_stream_breaks_off_is_never_sent():
    cards = CardNumberStreamFilter()

    assert cards.feed("It is 4539 5787 6362") == "It is "
    # No flush: the answer ended in an error, and nothing of the number was sent.


@pytest.mark.parametrize("formatter", [logging.Formatter("%(message)s"), JsonFormatter()])
def test_log_lines_never_show_a_card_number(formatter):
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    handler.addFilter(CardNumberLogFilter())
    logger = logging.getLogger("tests.masking")
    logger.addHandler(handler)
    try:
        logger.warning("upstream said %s", "card 4539-5787-6362-1486 declined")
        try:
            raise ValueError("bad number 5555 5555 5555 4444")
        except ValueError:
            logger.exception("tool failed for %s", {"card": "4111111111111111"})
    finally:
        logger.removeHandler(handler)

    written = out.getvalue()
    assert "1486" in written and "4444" in written and "1111" in written
    for number in ("4539-5787-6362-1486", "5555 5555 5555 4444", "4111111111111111"):
        assert number not in written
    if isinstance(formatter, JsonFormatter):
        assert "card ending 4444" in json.loads(written.splitlines()[-1])["exception"]


def test_the_scanner_knows_every_number_word():
    from fintalk import masking

    for word in (*masking._DIGIT_WORDS, *masking._REPEATS):
        assert masking._PIECE.fullmatch(word), word
