"""Who is calling, from a request's claims and words (``agents.caller``)."""

from agents.caller import CallerClaims, caller_from_claims


def _caller(*texts: str):
    return caller_from_claims(CallerClaims(), trusted=False, user_texts=list(texts))


def test_the_latest_number_the_caller_said_is_theirs_turn_after_turn():
    first = _caller("Hi, my number is 415 555 0101.")
    second = _caller("Hi, my number is 415 555 0101.", "Sorry, it is actually 415 555 0199.")
    third = _caller("Hi, my number is 415 555 0101.", "Sorry, it is actually 415 555 0199.", "What is my balance?")

    assert first.phone == "+14155550101"
    assert second.phone == third.phone == "+14155550199"


def test_a_number_in_a_long_message_is_found_too():
    long_text = "Let me explain. " * 200 + "You can reach me at 415 555 0101."

    assert len(long_text) > 2_000
    assert _caller(long_text).phone == "+14155550101"
