"""Card numbers reduced to their last four digits, wherever text leaves Fintalk or is kept.

``mask_card_numbers`` is the one definition of "a card number" (a PAN): 13 to 19 digits
that pass the Luhn check (``stdnum.luhn``), written together or grouped by spaces, dashes,
dots, commas or slashes ("4539 5787 6362 1486", "4539.5787.6362.1486",
"4539/5787/6362/1486"), or spoken the way a transcriber writes it ("four five three nine
…", "double five", "oh" for zero). Such a number becomes ``card ending 1486``.

Left alone: anything under 13 digits (phone numbers, amounts, dates, account and routing
numbers), digit strings that fail the Luhn check, an international phone number written
with "+", and calendar dates run together ("2026-11-01/2026-11-30"). Digits glued to
letters still count: a number hidden as "x4539578763621486" is masked.

Everything that leaves or is stored goes through this module: the streamed answer
(``CardNumberStreamFilter``, which holds back only a tail that could still grow into a
card number), the history the model is shown, tool-call arguments and results, the
conversation log and the application logs (``CardNumberLogFilter``).

Not caught: a number broken up by words ("4539 5787 then 6362 1486"), or spoken as
cardinals ("forty five thirty nine …"): transcribers write card numbers digit by digit.
"""

import logging
import re
from dataclasses import dataclass
from typing import Any

import phonenumbers
from stdnum import luhn

SHORTEST, LONGEST = 13, 19
MASKED = "card ending {last4}"

_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_REPEATS = {"double": 2, "triple": 3}
# A piece of a card number: digits (any script's), or a digit said as a word; "double" and
# "triple" repeat the digit after them.
# Written as a trie and matched against lowercased text: Python's re tries an alternation
# of words at every position, and this is the cheapest way found to do it (see the note).
_NUMBER_WORDS = r"(?:z(?:ero)|o(?:ne|h)?|t(?:wo|hree|riple)|f(?:our|ive)|s(?:ix|even)|eight|nine|double)"
_PIECE = re.compile(rf"\d+|\b{_NUMBER_WORDS}\b")
_PIECE_ANY_CASE = re.compile(_PIECE.pattern, re.IGNORECASE)
_TOKEN = re.compile(r"\d+|[^\W\d_]+")
# What people and transcribers put between the groups of a number (at most three of them).
_SEPARATOR_CHARS = " \t\u00a0-\u2010\u2011\u2012\u2013\u2014.,/"
_LONGEST_SEPARATOR = 3
# The end of a chunk that may still become a digit word ("fo" of "four").
_PARTIAL_WORDS = frozenset(
    word[:n] for word in (*_DIGIT_WORDS, *_REPEATS) for n in range(1, len(word))
)
_DATE = re.compile(
    r"(?<!\d)(?:(?:19|20)\d\d([-./])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])"
    r"|(?:0?[1-9]|[12]\d|3[01])([-./])(?:0?[1-9]|[12]\d|3[01])\2(?:19|20)\d\d)(?!\d)"
)


@dataclass(frozen=True, slots=True)
class _Piece:
    start: int
    end: int
    digits: str
    separator: str  # what joins it to the piece before ("" for the first)


def _is_separator(gap: str) -> bool:
    return len(gap) <= _LONGEST_SEPARATOR and not gap.strip(_SEPARATOR_CHARS)


def _runs(text: str) -> list[list[_Piece]]:
    """The runs of digits and digit words in ``text``: pieces joined by separators."""
    runs: list[list[_Piece]] = []
    run: list[_Piece] = []
    repeat, repeat_start, repeat_end = 0, 0, 0  # "double" / "triple", waiting for a digit
    lower = text.lower()
    # Lowercasing keeps every position, except for a few letters (İ) that grow.
    pieces = _PIECE.finditer(lower) if len(lower) == len(text) else _PIECE_ANY_CASE.finditer(text)
    for token in pieces:
        word, start = token[0], token.start()
        if word[0].isdigit():
            # Any script's digits, as 0-9.
            digits = word if word.isascii() else "".join(str(int(ch)) for ch in word)
        else:
            lower = word.lower()
            if lower in _REPEATS:
                repeat, repeat_start, repeat_end = _REPEATS[lower], start, token.end()
                continue
            digits = _DIGIT_WORDS[lower]
            if repeat and _is_separator(text[repeat_end:start]):
                digits, start = digits * repeat, repeat_start
        repeat = 0
        gap = text[run[-1].end : start] if run else ""
        if run and not _is_separator(gap):
            runs.append(run)
            run = []
            gap = ""
        run.append(_Piece(start, token.end(), digits, gap))
    if run:
        runs.append(run)
    return runs


def _is_card_number(digits: str, *, before: str) -> bool:
    if not SHORTEST <= len(digits) <= LONGEST or digits[0] == "0" or not luhn.is_valid(digits):
        return False
    if before == "+":  # an international phone number, if it is a valid one
        try:
            return not phonenumbers.is_valid_number(phonenumbers.parse("+" + digits))
        except phonenumbers.NumberParseException:
            return True
    return True


def _looks_like_a_group(piece: _Piece) -> bool:
    """Card numbers are written in groups of four, digit by digit, or in one piece."""
    return len(piece.digits) in (1, 4) or len(piece.digits) >= SHORTEST


def _longest_from(pieces: list[_Piece], i: int, text: str, blocked: set[int]) -> int | None:
    """The end of the longest card number starting at ``pieces[i]`` within one way of
    writing (one separator throughout), or None."""
    best, digits = None, ""
    for j in range(i, len(pieces)):
        if j in blocked or (j > i + 1 and pieces[j].separator != pieces[i + 1].separator):
            break
        digits += pieces[j].digits
        if len(digits) > LONGEST:
            break
        if _is_card_number(digits, before=text[pieces[i].start - 1 : pieces[i].start]):
            best = j + 1
    return best


def _spans(pieces: list[_Piece], text: str) -> list[tuple[int, int, str]]:
    """The card numbers in one run: (start, end, last four) each."""
    if sum(len(piece.digits) for piece in pieces) < SHORTEST:
        return []
    start, end = pieces[0].start, pieces[-1].end
    dates = [(start + d.start(), start + d.end()) for d in _DATE.finditer(text[start:end])]
    blocked = {k for k, p in enumerate(pieces) if any(s < p.end and p.start < e for s, e in dates)}
    whole = "".join(piece.digits for piece in pieces)
    if not blocked and _is_card_number(whole, before=text[start - 1 : start]):
        return [(start, end, whole[-4:])]
    # Several numbers side by side: card-like groupings first, then any start.
    found = []
    for starts_here in (_looks_like_a_group, lambda piece: True):
        i = 0
        while i < len(pieces):
            stop = None
            if i not in blocked and starts_here(pieces[i]):
                stop = _longest_from(pieces, i, text, blocked)
            if stop is None:
                i += 1
                continue
            digits = "".join(piece.digits for piece in pieces[i:stop])
            found.append((pieces[i].start, pieces[stop - 1].end, digits[-4:]))
            blocked.update(range(i, stop))
            i = stop
    return sorted(found)


def _masked(text: str, runs: list[list[_Piece]]) -> str:
    out, last = [], 0
    for run in runs:
        for start, end, last4 in _spans(run, text):
            out += (text[last:start], MASKED.format(last4=last4))
            last = end
    return "".join(out) + text[last:] if out else text


def mask_card_numbers(text: str) -> str:
    """``text`` with every card number replaced by "card ending <last four>".

    ``text`` is any string; the result is a string of the same meaning in which no 13–19
    digit Luhn-valid number remains (see the module's docstring for the shapes read).
    """
    if not text:
        return text
    return _masked(text, _runs(text))


def mask_card_numbers_in(value: Any) -> Any:
    """``value`` (a JSON-like structure: dicts, lists, strings, numbers) with card numbers
    masked in every string, keys included. Whole numbers long enough to be a card number
    are masked too (a model may send one as a JSON integer)."""
    if isinstance(value, str):
        return mask_card_numbers(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and abs(value) >= 10 ** (SHORTEST - 1):
        masked = mask_card_numbers(str(value))
        return masked if masked != str(value) else value
    if isinstance(value, dict):
        return {mask_card_numbers_in(key): mask_card_numbers_in(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(mask_card_numbers_in(item) for item in value)
    return value


class CardNumberStreamFilter:
    """Masks card numbers in text that arrives in pieces (a model's streamed deltas).

    ``feed`` returns what may be sent now; a tail that could still be (part of) a card
    number — a run of digits or digit words reaching the end of what has arrived, or a
    word that may become one ("fo…") — is held until the next delta shows where it ends.
    Text with no digit in sight passes straight through. ``flush`` at the end of the text
    returns the held tail, masked. Text held when the stream breaks off is never sent.
    """

    def __init__(self) -> None:
        self._held = ""

    def feed(self, delta: str) -> str:
        if not self._held and _plain(delta):
            return delta  # the common case, once per token
        text = self._held + delta
        runs = _runs(text)
        cut = len(text)
        if (last := _last_word(text)) is not None and last[1].lower() in _MAY_GROW:
            cut = last[0]
        if runs and (runs[-1][-1].end > cut or _is_separator(text[runs[-1][-1].end : cut])):
            cut = min(cut, runs[-1][0].start)
            runs.pop()  # held whole, so never read past the cut
        self._held = text[cut:]
        # The runs found before the cut are those of the text sent: not looked for again.
        return _masked(text[:cut], runs)

    def flush(self) -> str:
        held, self._held = self._held, ""
        return mask_card_numbers(held)


_MAY_GROW = _PARTIAL_WORDS | frozenset(_REPEATS)


def _last_word(text: str) -> tuple[int, str] | None:
    """The word ``text`` ends with (its start and letters), if it ends in a letter."""
    if not text or not (text[-1].isalpha()):
        return None
    start = len(text)
    while start and text[start - 1].isalpha():
        start -= 1
    return start, text[start:]


def _plain(delta: str) -> bool:
    """True when ``delta`` holds no digit, no digit word, and ends in no word that may
    become one."""
    words = _TOKEN.findall(delta)
    if not words:
        return True
    if any(word[0].isdigit() or word.lower() in _DIGIT_WORDS for word in words):
        return False
    return not (delta[-1].isalpha() and words[-1].lower() in _MAY_GROW)


class CardNumberLogFilter(logging.Filter):
    """A logging filter that masks card numbers in a record's message and traceback.

    Attach it to a handler: the record's formatted message replaces ``msg``/``args``, and
    an exception is formatted (with ``logging.Formatter``'s standard layout) and masked
    into ``exc_text``, which every formatter prints instead of formatting it again.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_card_numbers(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_card_numbers(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_card_numbers(record.stack_info)
        return True
