"""The texts of the agent's steps are joined at a word boundary, never glued."""

from agents.runner import StepJoiner


def _joined(steps: list[list[str]]) -> str:
    joiner, sent = StepJoiner(), []
    for pieces in steps:
        sent += [joiner.join(piece) for piece in pieces]
        joiner.step_ended()
    return "".join(sent)


def test_a_step_that_ends_a_sentence_is_followed_by_a_space():
    assert _joined([["Let me", " check."], ["Here", " it is."]]) == "Let me check. Here it is."


def test_whitespace_already_there_is_not_doubled():
    assert _joined([["One. "], ["Two."]]) == "One. Two."
    assert _joined([["One."], [" Two."]]) == "One. Two."


def test_pieces_within_one_step_are_left_as_they_are():
    assert _joined([["bal", "ance", "."]]) == "balance."


def test_a_silent_step_adds_nothing():
    assert _joined([[], ["Hello."]]) == "Hello."
    assert _joined([["Hi."], [], ["Bye."]]) == "Hi. Bye."
