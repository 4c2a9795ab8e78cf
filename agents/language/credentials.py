"""What a caller says to prove who they are: a card's last four, birth date, ZIP/postcode."""

import re
from dataclasses import dataclass
from datetime import date

from agents.language.cards import card_ending_match
from agents.language.dates import _DAY_MONTH, _ISO_DATE, _MONTH_DAY, _SLASH_DATE, _date_text
from agents.language.spoken import MONTHS
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
