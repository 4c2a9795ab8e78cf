"""Yes or no: whether a reply agrees to what was just read back."""

from agents.language.text import mentions, phrases

_YES = phrases(
    """yes, yeah, yea, yep, yup, ya, sure, ok, okay, confirm, confirmed, go ahead, do it, do that,
    please do, correct, that's right, that is right, absolutely, definitely, of course,
    affirmative, proceed, sounds good, alright, all right, freeze it, unfreeze it, pay it,
    send it, transfer it, move it, block it, lock it, report it, make the payment"""
)
_NO = phrases(
    """no, nope, nah, don't, dont, do not, cancel, stop, never mind, nevermind, wait, hold on,
    not now, negative, abort, changed my mind"""
)


def is_negative(text: str) -> bool:
    """True when ``text`` declines or holds back ("no", "don't", "wait", "cancel that")."""
    return mentions(text, *_NO, typo_tolerance=False)


def is_affirmative(text: str) -> bool:
    """True when ``text`` clearly agrees ("yes", "yes, freeze it", "go ahead") and holds
    nothing back: any "no", "wait" or "cancel" in it makes it not a yes."""
    return not is_negative(text) and mentions(text, *_YES, typo_tolerance=False)
