"""How amounts, dates, percentages and lists are written in answers (read aloud by Vapi,
shown in chat). Reading what callers say is ``agents.language``'s job."""

from datetime import date
from decimal import Decimal

_CURRENCY_SYMBOLS = {"USD": "$", "GBP": "£", "EUR": "€"}


def money(amount: Decimal, currency: str = "USD", *, cents: bool = True) -> str:
    """'$1,234.56'; with ``cents=False``, whole amounts drop '.00' ('$5,000')."""
    symbol = _CURRENCY_SYMBOLS.get(currency.upper())
    sign = "-" if amount < 0 else ""
    whole = not cents and amount == amount.to_integral_value()
    figure = f"{abs(amount):,.0f}" if whole else f"{abs(amount):,.2f}"
    return f"{sign}{symbol}{figure}" if symbol else f"{sign}{figure} {currency.upper()}"


def day(value: date) -> str:
    """'December 4, 2026'."""
    return f"{value:%B} {value.day}, {value.year}"


def percent(value: Decimal) -> str:
    return f"{value.normalize():f}%"


def spoken_list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
