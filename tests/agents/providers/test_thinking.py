"""No ``<thinking>`` text reaches a client, however the model's stream splits the tags."""

import pytest

from agents.providers.thinking import ThinkingFilter


def visible(*chunks: str) -> str:
    thinking = ThinkingFilter()
    return "".join(thinking.feed(chunk) for chunk in chunks) + thinking.flush()


def test_text_without_tags_passes_unchanged_chunk_by_chunk():
    thinking = ThinkingFilter()
    assert [thinking.feed(chunk) for chunk in ("Your ", "balance ", "is $5 < $6.")] == [
        "Your ",
        "balance ",
        "is $5 < $6.",
    ]
    assert thinking.flush() == ""


@pytest.mark.parametrize(
    "chunks",
    [
        ("<thinking>The user wants loans.</thinking>\n\nWe offer personal loans.",),
        ("<thin", "king>The user wants", " loans.</thi", "nking>", "\n\nWe offer ", "personal loans."),
        ("<", "t", "h", "i", "n", "k", "i", "n", "g", ">", "x", "<", "/", "thinking", ">", "We offer personal loans."),
        ("<thinking>a</thinking><thinking>b</thinking>We offer personal loans.",),
    ],
)
def test_reasoning_is_removed_even_when_tags_are_split_across_chunks(chunks):
    assert visible(*chunks) == "We offer personal loans."


def test_text_before_and_after_a_reasoning_block_is_kept():
    assert visible("Sure. <thinking>check the card</thinking> Done.") == "Sure. Done."


def test_unfinished_reasoning_at_the_end_of_a_step_is_dropped():
    assert visible("<thinking>I will call the tool") == ""


def test_a_tail_that_only_looked_like_a_tag_is_sent_at_the_end_of_the_step():
    thinking = ThinkingFilter()
    assert thinking.feed("rates below <thin") == "rates below "
    assert thinking.flush() == "<thin"


def test_other_angle_brackets_are_text():
    assert visible("a <b> tag and <think> too") == "a <b> tag and <think> too"
