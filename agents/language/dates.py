"""Days and periods: "next friday", "on the 15th", "last month", "since March 1"."""

import calendar
import re
from datetime import date, timedelta
from functools import lru_cache

from agents.language.number_words import MONTHS, digits
from agents.language.text import is_typo_of, normalize

_WEEKDAYS = {calendar.day_name[n].lower(): n for n in range(7)} | {"tues": 1, "weds": 2, "thurs": 3}
_FULL_MONTHS = {calendar.month_name[n].lower() for n in range(1, 13)} - {"may"}
_TYPO_PRONE = (
    *(name for name in (*MONTHS, *_WEEKDAYS) if len(name) >= 6), "today", "tomorrow", "yesterday"
)
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY_NAMES = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_NOT_A_DAY = r"(?! ?(?:%|percent|dollars?|bucks|days?|weeks?|months?|years?)\b|[.,:/]\d)"

_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_SLASH_DATE = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?(?![\d/])")
_YEAR = r"(?:,? (\d{4})\b)?"
_MONTH_DAY = re.compile(
    rf"\b({_MONTH_NAMES})\.? (\d{{1,2}})(?:st|nd|rd|th)?\b{_NOT_A_DAY}{_YEAR}")
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?({_MONTH_NAMES})\b{_YEAR}")
_DAY_ONLY = re.compile(
    r"\b(?:(?:on|by|before) (?:the )?(\d{1,2})(?:st|nd|rd|th)?|the (\d{1,2})(?:st|nd|rd|th))\b"
    + _NOT_A_DAY)
_OFFSET = re.compile(
    r"\bin (\d+|an?) (days?|weeks?|months?)\b"
    r"|\b(\d+|an?) (days?|weeks?|months?) from (?:now|today)\b")
_WEEKDAY = re.compile(rf"\b(?:(last|next|this|coming|on) )?({_WEEKDAY_NAMES})s?\b")
_MONTH_ONLY = re.compile(rf"\b(?:(in|for|during|of|over|since) )?({_MONTH_NAMES})\b{_YEAR}")
_BETWEEN = re.compile(r"\b(?:between|from) (.+?) (?:and|to|until|till|through|thru|-) (.+)")
_SINCE = re.compile(r"\b(?:since|from) (.+)")
_PERIOD = re.compile(
    r"\b(past|last|previous|prior|this|current)(?: (\d+))? (day|week|month|year)s?\b")
_TO_DATE = re.compile(r"\b(?:(month|year) to date|(mtd|ytd))\b")
_LEADING_DAY = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\b")
_NAMED_DAYS = (("day after tomorrow", 2), ("tomorrow", 1), ("today", 0), ("yesterday", -1))
_LONGEST = {"day": 36500, "week": 5200, "month": 1200, "year": 100}  # counts beyond are not periods
_NOW = re.compile(r"(?:the )?(?:today|now)\b")


@lru_cache(maxsize=256)
def _date_text(text: str) -> str:
    """``text`` with spoken numbers as digits and misspelled day and month names put right.

    Only names of 6+ letters (and today/tomorrow/yesterday) are corrected, and only from a
    word with the same first letter, so "march" never eats "match" nor "december" "remember".
    """
    words = normalize(text).split(" ")
    for i, word in enumerate(words):
        if len(word) >= 5 and word.isalpha() and word not in MONTHS and word not in _WEEKDAYS:
            fixes = (name for name in _TYPO_PRONE if name[0] == word[0] and is_typo_of(word, name))
            words[i] = next(fixes, word)
    return digits(" ".join(words))


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _shift_months(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _faces(candidate: date | None, today: date, future: bool) -> bool:
    return candidate is not None and (candidate >= today if future else candidate <= today)


def _month_day(month: int, day: int, year: str | None, today: date, future: bool) -> date | None:
    """Without a year: the first such day on or after ``today`` (``future``), else the last
    one on or before it."""
    if year:
        return _safe_date(int(year) + (2000 if len(year) == 2 else 0), month, day)
    for offset in range(5):  # five years always hold a February 29th
        candidate = _safe_date(today.year + (offset if future else -offset), month, day)
        if _faces(candidate, today, future):
            return candidate
    return None


def _day_of_month(day: int, today: date, future: bool) -> date | None:
    for offset in range(13):
        month = _shift_months(today.replace(day=1), offset if future else -offset)
        candidate = _safe_date(month.year, month.month, day)
        if _faces(candidate, today, future):
            return candidate
    return None


def _calendar_date(t: str, today: date, future: bool) -> date | None:
    """A date in ``t``: "2026-12-03", "12/03[/2026]", "dec 3rd", "3 december", "the 15th"."""
    if m := _ISO_DATE.search(t):
        return _safe_date(int(m[1]), int(m[2]), int(m[3]))
    if m := _SLASH_DATE.search(t):
        month, day = int(m[1]), int(m[2])
        return _month_day(month, day, m[3], today, future) if 1 <= month <= 12 else None
    if m := _MONTH_DAY.search(t):
        return _month_day(MONTHS[m[1]], int(m[2]), m[3], today, future)
    if m := _DAY_MONTH.search(t):
        return _month_day(MONTHS[m[2]], int(m[1]), m[3], today, future)
    if m := _DAY_ONLY.search(t):
        return _day_of_month(int(m[1] or m[2]), today, future)
    return None


def _weekday(t: str, today: date, future: bool) -> date | None:
    """The named weekday: the next one after ``today`` (``future``) or the latest on or before
    it; "last friday" is always the latest Friday before today, "next friday" the next one."""
    if (m := _WEEKDAY.search(t)) is None:
        return None
    weekday = _WEEKDAYS[m[2]]
    if m[1] == "last":
        return today - timedelta(days=(today.weekday() - weekday - 1) % 7 + 1)
    if future or m[1] in ("next", "coming"):
        return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)
    return today - timedelta(days=(today.weekday() - weekday) % 7)


def parse_date(text: str, *, today: date) -> date | None:
    """The day the user names, read forward from ``today`` as when scheduling, or None.

    "today", "tomorrow", "the day after tomorrow", "on friday"/"next friday" (the next such
    weekday after today), "in 5 days", "in two weeks", "a month from now", "on the 15th" (the
    next 15th on or after today), "December 3", "dec 3rd", "3 december", "the third of
    december" (the next one on or after today unless a year is given), "12/03/2026" (US
    month/day/year), "2026-12-03". Misspellings such as "tommorow", "wensday" or "febuary"
    are understood.
    """
    t = _date_text(text)
    if found := _calendar_date(t, today, future=True):
        return found
    if m := _OFFSET.search(t):
        count, unit = (m[1], m[2]) if m[1] else (m[3], m[4])
        count = 1 if count in ("a", "an") else int(count)
        if count > _LONGEST[unit.rstrip("s")]:
            return None
        if unit.startswith("month"):
            return _shift_months(today, count)
        return today + timedelta(days=count * (7 if unit.startswith("week") else 1))
    if found := _weekday(t, today, future=True):
        return found
    for words, offset in _NAMED_DAYS:
        if re.search(rf"\b{words}\b", t):
            return today + timedelta(days=offset)
    return None


def _month(t: str, today: date) -> tuple[date, date] | None:
    """The first and last day of the month named in ``t``: the latest one not in the future."""
    for m in _MONTH_ONLY.finditer(t):
        if m[1] or m[3] or m[2] in _FULL_MONTHS:  # "may" and "mar" alone are too often other words
            month = MONTHS[m[2]]
            year = int(m[3]) if m[3] else today.year - (month > today.month)
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    return None


def _past_day(fragment: str, today: date) -> date | None:
    if _NOW.match(fragment):
        return today
    if fragment.startswith("yesterday"):
        return today - timedelta(days=1)
    day = _calendar_date(fragment, today, future=False) or _weekday(fragment, today, future=False)
    return day or (month[0] if (month := _month(fragment, today)) else None)


def _period(word: str, count: str | None, unit: str, today: date) -> tuple[date, date] | None:
    monday = today - timedelta(days=today.weekday())
    if word in ("this", "current"):
        starts = {"day": today, "week": monday, "month": today.replace(day=1)}
        return (starts.get(unit, date(today.year, 1, 1)), today) if count is None else None
    if count is None and word != "past":  # "last week" is a calendar week, "past week" seven days
        if unit == "day":
            return today - timedelta(days=1), today - timedelta(days=1)
        if unit == "week":
            return monday - timedelta(days=7), monday - timedelta(days=1)
        if unit == "month":
            end = today.replace(day=1) - timedelta(days=1)
            return end.replace(day=1), end
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    n = int(count or 1)
    if not 0 < n <= _LONGEST[unit]:
        return None
    if unit in ("day", "week"):
        return today - timedelta(days=n * (7 if unit == "week" else 1) - 1), today
    return _shift_months(today, -n * (12 if unit == "year" else 1)) + timedelta(days=1), today


def _between(first: str, second: str, today: date) -> tuple[date, date] | None:
    if (start := _past_day(first, today)) is None:
        return None
    if day := _LEADING_DAY.match(second):  # "between march 1 and 15"
        end = _day_of_month(int(day[1]), start, future=True)
    else:
        end = today if _NOW.match(second) else _calendar_date(second, start, future=True)
    return (min(start, end), max(start, end)) if end else None


def parse_date_range(text: str, *, today: date) -> tuple[date, date] | None:
    """The period the user asks about, as inclusive (first, last) days, read back from ``today``.

    "last month" (the whole previous calendar month), "this month" (the 1st to today), "last
    week" (the previous Monday to Sunday), "this week", "this year", "last year", "past 30
    days"/"last 30 days" (30 days ending today), "last 2 weeks", "past 3 months",
    "yesterday", "today", "since March 1" (to today), "between March 1 and March 15", "from
    the 1st to the 10th", "in October" (the most recent October not in the future, up to
    today), "October 2024", "on March 3" and "last friday" (that one day).
    """
    t = _date_text(text)
    if (m := _BETWEEN.search(t)) and (found := _between(m[1], m[2], today)):
        return found
    if (m := _SINCE.search(t)) and (start := _past_day(m[1], today)) and start <= today:
        return start, today
    if m := _PERIOD.search(t):
        return _period(m[1], m[2], m[3], today)
    if m := _TO_DATE.search(t):
        return _period("this", None, m[1] or {"mtd": "month", "ytd": "year"}[m[2]], today)
    if re.search(r"\byesterday\b", t):
        return today - timedelta(days=1), today - timedelta(days=1)
    if re.search(r"\btoday\b", t):
        return today, today
    if day := _calendar_date(t, today, future=False):
        return day, day
    if month := _month(t, today):
        first, last = month
        return first, today if first <= today <= last else last
    if day := _weekday(t, today, future=False):
        return day, day
    return None
