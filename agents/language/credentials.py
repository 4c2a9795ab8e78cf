"""What a caller says to prove who they are: a card's last four, birth date, ZIP/postcode."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from agents.language.cards import card_ending_match
from agents.language.dates import _DAY_MONTH, _ISO_DATE, _MONTH_DAY, _SLASH_DATE, _date_text
from agents.language.number_words import MONTHS
from agents.language.text import normalize

_PHONE_LIKE = re.compile(r"\+?\d(?:[ ().-]{0,2}\d){9,}")
_POSTAL_WORD = r"(?:zip(?: ?code)?|postal code|post ?code)(?: (?:is|it's|of))?[ :]*"
_US_ZIP = r"\d(?: ?\d){4}(?:-\d{4})?"
_UK_POSTCODE = r"[a-z]{1,2}\d[a-z\d]? ?\d[a-z]{2}"
_NAMED_POSTAL = re.compile(rf"\b{_POSTAL_WORD}({_US_ZIP}|{_UK_POSTCODE})\b")
_BARE_UK_POSTCODE = re.compile(rf"\b({_UK_POSTCODE})\b")
_BARE_ZIP = re.compile(r"(?<![\d$£€.,-])(\d{5})(?!\d|[.,]\d)")
_BARE_LAST4 = re.compile(r"(?<![\d$£€.,-])(\d(?:[ -]?\d){3})(?!\d|[.,]\d| ?%)")
_LAST_FOUR = re.compile(r"\blast (?:four|4)\b")


@dataclass(frozen=True)
class Credentials:
    card_last4: str | None = None
    date_of_birth: date | None = None
    postal_code: str | None = None

    @property
    def complete(self) -> bool:
        """Enough to verify: a card ending, and a birth date or a postal code."""
        return bool(self.card_last4 and (self.date_of_birth or self.postal_code))

    @property
    def any(self) -> bool:
        return bool(self.card_last4 or self.date_of_birth or self.postal_code)


def _blank(text: str, span: tuple[int, int]) -> str:
    start, end = span
    return text[:start] + " " * (end - start) + text[end:]


def _full_year(year: str, today: date) -> int:
    if len(year) == 4:
        return int(year)
    century = 2000 if 2000 + int(year) <= today.year else 1900
    return century + int(year)


def _birth_date(t: str, today: date) -> tuple[date, tuple[int, int]] | None:
    """A past date with its year ("march 14 1988", "14/03/88" is not US: "3/14/88"), and
    where it was said. A date without a year is no birth date."""
    found = []
    if m := _ISO_DATE.search(t):
        found.append((int(m[1]), int(m[2]), int(m[3]), m.span()))
    if (m := _SLASH_DATE.search(t)) and m[3]:
        found.append((_full_year(m[3], today), int(m[1]), int(m[2]), m.span()))
    if (m := _MONTH_DAY.search(t)) and m[3]:
        found.append((int(m[3]), MONTHS[m[1]], int(m[2]), m.span()))
    if (m := _DAY_MONTH.search(t)) and m[3]:
        found.append((int(m[3]), MONTHS[m[2]], int(m[1]), m.span()))
    for year, month, day, span in found:
        try:
            born = date(year, month, day)
        except ValueError:
            continue
        if born < today:
            return born, span
    return None


def parse_credentials(text: str, *, today: date) -> Credentials:
    """The verification details in ``text``, each None when it is not there.

    "card ending 4567, born March 14 1988", "4 5 6 7 and my zip is 94110", "last four four
    five six seven, date of birth 3/14/1988", "my postcode is SE1 7PB and my card ends 7788".
    A four-digit group counts as the card ending next to a card word, or alone once the
    birth date, the postal code and any phone number are set aside.
    """
    # "last four" stays one word, or "last four four five six seven" reads as 44567.
    t = _date_text(_LAST_FOUR.sub("lastfour", normalize(text)))
    born = _birth_date(t, today)
    if born:
        t = _blank(t, born[1])
    for phone in _PHONE_LIKE.finditer(t):
        t = _blank(t, phone.span())
    postal = None
    if m := _NAMED_POSTAL.search(t) or _BARE_UK_POSTCODE.search(t) or _BARE_ZIP.search(t):
        postal = m[1].replace(" ", "").upper() if m[1][0].isdigit() else m[1].upper()
        t = _blank(t, m.span())
    last4 = None
    if match := card_ending_match(t):
        last4 = re.sub(r"\D", "", match[1])
    elif len(groups := _BARE_LAST4.findall(t)) == 1:
        last4 = re.sub(r"\D", "", groups[0])
    return Credentials(
        card_last4=last4, date_of_birth=born[0] if born else None, postal_code=postal
    )


@dataclass(frozen=True)
class SaidDetails:
    """Every verification detail a caller said in their messages: card endings (four
    digits), birth dates, and postal codes (upper case, no spaces or dashes)."""

    card_last4s: frozenset[str]
    birth_dates: frozenset[date]
    postal_codes: frozenset[str]

    def has_last4(self, last4: str) -> bool:
        return last4 in self.card_last4s

    def has_birth_date(self, born: date) -> bool:
        return born in self.birth_dates

    def has_postal_code(self, postal: str) -> bool:
        """``postal`` was said (a ZIP+4 said covers its ZIP, and the other way round)."""
        given = postal_key(postal)
        return any(
            given == said or (given[:5].isdigit() and said[:5].isdigit() and given[:5] == said[:5])
            for said in self.postal_codes
        )


def postal_key(value: str) -> str:
    """A postal code as compared: upper case, without spaces or dashes."""
    return re.sub(r"[\s-]", "", value).upper()


def said_details(texts: Iterable[str], *, today: date) -> SaidDetails:
    """The details the caller said, read the way ``parse_credentials`` reads them (spoken
    digits, dates in words, typos), and also every four-digit group, five-digit ZIP and
    UK postcode in each message: what the model claims the caller said must be among them.
    """
    last4s: set[str] = set()
    born: set[date] = set()
    postal: set[str] = set()
    for text in texts:
        found = parse_credentials(text, today=today)
        if found.card_last4:
            last4s.add(found.card_last4)
        if found.date_of_birth:
            born.add(found.date_of_birth)
        if found.postal_code:
            postal.add(postal_key(found.postal_code))
        t = _date_text(_LAST_FOUR.sub("lastfour", normalize(text)))
        if said_born := _birth_date(t, today):  # a birth year is no card ending
            t = _blank(t, said_born[1])
        for phone in _PHONE_LIKE.finditer(t):  # nor are a phone number's digits
            t = _blank(t, phone.span())
        last4s.update(re.sub(r"\D", "", group) for group in _BARE_LAST4.findall(t))
        for pattern in (_NAMED_POSTAL, _BARE_UK_POSTCODE, _BARE_ZIP):
            postal.update(postal_key(m[1]) for m in pattern.finditer(t))
    return SaidDetails(frozenset(last4s), frozenset(born), frozenset(postal))
