"""Spoken numbers as digits: "four five six seven" → "4567", "twelve hundred" → "1200"."""

import calendar
import re
from decimal import Decimal
from functools import lru_cache

from agents.language.text import normalize

MONTHS = {
    name.lower(): n
    for n in range(1, 13)
    for name in (calendar.month_name[n], calendar.month_abbr[n])
} | {"sept": 9}

_UNITS = {w: n for n, w in enumerate("zero one two three four five six seven eight nine".split())}
_TEENS = {w: n for n, w in enumerate(
    "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split(), 10)}
_TENS = {w: 10 * n for n, w in enumerate(
    "twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)} | {"fourty": 40}
_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9}
_ORDINALS = {w: n for n, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth"
    " fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth".split(), 1)} | {
    "twentieth": 20, "thirtieth": 30}
_ZERO_LETTERS = {"oh", "o"}  # 0 only next to other spoken digits: "oh, I see" stays
_REPEATS = {"double": 2, "triple": 3}
_WORD_TOKEN = re.compile(r"([a-z]+)([.,:]*)")
_HYPHENATED_TENS = re.compile(rf"\b({'|'.join(_TENS)})-(?=[a-z])")
_NUMERIC_SCALE = re.compile(r"(?<![\d.,])(\d+(?:\.\d+)?) (hundred|thousand|million|billion)\b")
_AND_A_HALF = re.compile(r"(?<![\d.,])(\d+) and a half\b")


def _at(words: list[str], i: int) -> str:
    return words[i] if i < len(words) else ""


def _digit(word: str) -> str | None:
    if word in _ZERO_LETTERS:
        return "0"
    return str(_UNITS[word]) if word in _UNITS else None


def _ordinal(words: list[str], i: int) -> tuple[int, int] | None:
    """An ordinal at ``words[i]`` ("fifteenth", "twenty first"): (value, index after it)."""
    word, following = _at(words, i), _at(words, i + 1)
    if word in _TENS and _ORDINALS.get(following, 10) < 10:
        return _TENS[word] + _ORDINALS[following], i + 2
    return (_ORDINALS[word], i + 1) if word in _ORDINALS else None


def _below_hundred(words: list[str], i: int) -> tuple[int, int] | None:
    word = _at(words, i)
    if word in _TEENS or (word in _UNITS and word != "zero"):
        return _TEENS.get(word) or _UNITS[word], i + 1
    if word in _TENS:
        unit = _at(words, i + 1)
        if unit in _UNITS and unit != "zero":
            return _TENS[word] + _UNITS[unit], i + 2
        return _TENS[word], i + 1
    return None


def _hundreds(words: list[str], i: int) -> tuple[int, int] | None:
    """1–9999 the way people say it: "a hundred", "twelve hundred and fifty"."""
    if _at(words, i) == "a" and (_at(words, i + 1) == "hundred" or _at(words, i + 1) in _SCALES):
        value, i = 1, i + 1
    elif (got := _below_hundred(words, i)) is not None:
        value, i = got
    else:
        return None
    if _at(words, i) == "hundred":
        value, i = value * 100, i + 1
        rest = _below_hundred(words, i + (_at(words, i) == "and"))
        if rest is not None:
            value, i = value + rest[0], rest[1]
    return value, i


def _cardinal(words: list[str], i: int) -> tuple[int, int] | None:
    """A whole cardinal: "two thousand five hundred and fifty" → 2550."""
    if (got := _hundreds(words, i)) is None:
        return None
    (part, i), total, last_scale = got, 0, None
    while (scale := _SCALES.get(_at(words, i))) and (last_scale is None or scale < last_scale):
        total, part, last_scale, i = total + part * scale, 0, scale, i + 1
        if (more := _hundreds(words, i + (_at(words, i) == "and"))) is not None:
            part, i = more
    return total + part, i


def _group(words: list[str], i: int) -> tuple[str, int] | None:
    """One piece of a spoken digit string: "double five", "oh", "forty two", "twelve hundred"."""
    word = _at(words, i)
    if word in _REPEATS and (digit := _digit(_at(words, i + 1))) is not None:
        return digit * _REPEATS[word], i + 2
    if word in _ZERO_LETTERS or word == "zero":
        return "0", i + 1
    if _ordinal(words, i) is not None:
        return None
    got = _cardinal(words, i)
    return (str(got[0]), got[1]) if got else None


def _spoken_number(words: list[str], i: int) -> tuple[str, int] | None:
    """The number spoken from ``words[i]`` on, as digits, and the index after it.

    Consecutive numbers are read as one digit string, the way people say card endings,
    years and phone numbers: "forty five sixty seven" → "4567", "twenty twenty five" → "2025".
    """
    if (ordinal := _ordinal(words, i)) is not None:
        value, end = ordinal
        previous = words[i - 1] if i else ""
        # A lone "second" or "first" is usually not a day of the month.
        dated = previous == "the" or previous in MONTHS or _at(words, end) == "of"
        if end - i == 1 and not dated:
            return None
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(value % 10, "th") if value // 10 != 1 else "th"
        return f"{value}{suffix}", end
    pieces, j = [], i
    while (got := _group(words, j)) is not None:
        pieces.append(got[0])
        j = got[1]
    if not pieces or (len(pieces) == 1 and words[i] in _ZERO_LETTERS):
        return None
    number = "".join(pieces)
    if _at(words, j) == "point" and _digit(_at(words, j + 1)) is not None:
        number, j = number + ".", j + 1
        while (digit := _digit(_at(words, j))) is not None:
            number, j = number + digit, j + 1
    return number, j


def _rewrite_segment(tokens: list[str]) -> list[str]:
    matches = [_WORD_TOKEN.fullmatch(token) for token in tokens]
    words = [m[1] if m else "" for m in matches]
    out, i = [], 0
    while i < len(tokens):
        if (got := _spoken_number(words, i)) is None:
            out.append(tokens[i])
            i += 1
        else:
            out.append(got[0] + matches[got[1] - 1][2])
            i = got[1]
    return out


def _scaled(match: re.Match[str]) -> str:
    value = Decimal(match[1]) * {"hundred": 100, **_SCALES}[match[2]]
    return format(value.normalize(), "f")


def words_to_digits(text: str) -> str:
    """Normalize ``text`` and rewrite the numbers spoken in it as digits.

    Digit strings ("four five six seven" → "4567", "oh"/"o" as 0 between digits, "double
    five" → "55", "triple oh" → "000"), cardinals ("two thousand five hundred and fifty" →
    "2550", "a hundred" → "100", "one point five" → "1.5", "2 thousand" → "2000", "two and
    a half" → "2.5") and days of the month ("the fifteenth" → "the 15th", "december twenty
    first" → "december 21st"). Only whole words change — "someone", "often" and "tone" stay
    — and a punctuation mark ends a number ("five, six" → "5, 6").
    """
    tokens = _HYPHENATED_TENS.sub(r"\1 ", normalize(text)).split(" ")
    out: list[str] = []
    segment: list[str] = []
    for token in tokens:
        segment.append(token)
        match = _WORD_TOKEN.fullmatch(token)
        if match is None or match[2]:
            out += _rewrite_segment(segment)
            segment = []
    out += _rewrite_segment(segment)
    return _AND_A_HALF.sub(r"\1.5", _NUMERIC_SCALE.sub(_scaled, " ".join(out)))


# Every parser reads the same message: rewrite it once.
digits = lru_cache(maxsize=512)(words_to_digits)
