"""Credit cards: what is owed and when, and freezing, unfreezing or replacing a card."""

from agents.caller import CallerContext
from agents.formatting import day, money, spoken_list
from agents.tools.actions import request_action
from agents.tools.base import bank_tool, customer_or_refuse, last4_of
from bank.models import CreditCard, PendingAction
from bank.selectors import credit_card_list

Kind = PendingAction.Kind


def named_card(cards: list[CreditCard], card_last4: str | None) -> CreditCard | str:
    """The card the caller named, or the question to ask when it is not clear which."""
    last4 = last4_of(card_last4)
    if last4:
        for card in cards:
            if card.last4 == last4:
                return card
        endings = spoken_list([c.last4 for c in cards])
        return f"I don't see a card ending {last4} on your profile; your cards end in {endings}."
    if len(cards) == 1:
        return cards[0]
    choices = spoken_list([f"your {card}" for card in cards]).replace(" and ", " or ")
    return f"Which card do you mean: {choices}?"


@bank_tool
async def get_credit_card_summary(caller: CallerContext, card_last4: str | None = None) -> str:
    """Get the caller's credit card details: current balance, available credit, statement
    balance, minimum payment, payment due date and card status.

    Args:
        card_last4: Optional last four digits of one card, when the caller names one.
            Omit it to describe all of the caller's cards.
    """
    customer = await customer_or_refuse(caller)
    cards = await credit_card_list(customer_id=customer.pk)
    if not cards:
        return "You don't have a credit card with us."
    if card_last4:
        named = named_card(cards, card_last4)
        if isinstance(named, str):
            return named
        cards = [named]
    sentences = []
    for card in cards:
        status = (
            "" if card.status == "active" else f" The card is {card.get_status_display().lower()}."
        )
        sentences.append(
            f"Your {card.brand} ending {card.last4} has a balance of "
            f"{money(card.current_balance, card.currency)} with "
            f"{money(card.available_credit, card.currency)} available. The statement balance is "
            f"{money(card.statement_balance, card.currency)} and the minimum payment of "
            f"{money(card.minimum_payment, card.currency)} is due on "
            f"{day(card.payment_due_date)}.{status}"
        )
    return " ".join(sentences)


async def _card_action(caller: CallerContext, kind: str, card_last4: str | None) -> str:
    customer = await customer_or_refuse(caller)
    cards = await credit_card_list(customer_id=customer.pk)
    if not cards:
        return "You don't have a credit card with us."
    if not last4_of(card_last4):
        # "Freeze my card" with one card that can be frozen means that one.
        fits = {
            Kind.FREEZE_CARD: lambda c: c.status == CreditCard.Status.ACTIVE,
            Kind.UNFREEZE_CARD: lambda c: c.status == CreditCard.Status.FROZEN,
        }.get(kind, lambda c: not c.is_closed)
        cards = [card for card in cards if fits(card)] or cards
    card = named_card(cards, card_last4)
    if isinstance(card, str):
        return card
    return await request_action(caller, customer, kind=kind, card=card)


@bank_tool
async def freeze_card(caller: CallerContext, card_last4: str | None = None) -> str:
    """Ask to freeze (temporarily lock) one of the caller's credit cards so no new purchases
    go through. Nothing changes until the caller confirms in their next message.

    Args:
        card_last4: Last four digits of the card; may be omitted when the caller has one card.
    """
    return await _card_action(caller, Kind.FREEZE_CARD, card_last4)


@bank_tool
async def unfreeze_card(caller: CallerContext, card_last4: str | None = None) -> str:
    """Ask to unfreeze a frozen credit card so it works again. Nothing changes until the
    caller confirms in their next message.

    Args:
        card_last4: Last four digits of the card; may be omitted when only one is frozen.
    """
    return await _card_action(caller, Kind.UNFREEZE_CARD, card_last4)


@bank_tool
async def report_card_lost(
    caller: CallerContext, card_last4: str | None = None, stolen: bool = False
) -> str:
    """Ask to report a credit card lost or stolen: it is blocked for good and a replacement
    with a new number is sent. Nothing changes until the caller confirms in their next
    message.

    Args:
        card_last4: Last four digits of the card; may be omitted when the caller has one card.
        stolen: True when the card was stolen rather than lost.
    """
    kind = Kind.REPORT_CARD_STOLEN if stolen else Kind.REPORT_CARD_LOST
    return await _card_action(caller, kind, card_last4)
