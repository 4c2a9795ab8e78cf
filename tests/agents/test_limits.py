import pytest

from agents.limits import OutputLimits
from agents.tokens import count_tokens


def feed_all(limits: OutputLimits, deltas: list[str]) -> tuple[str, str | None]:
    out = ""
    for delta in deltas:
        text, finish = limits.feed(delta)
        out += text
        if finish:
            return out, finish
    return out + limits.flush(), None


def test_stop_sequence_split_across_deltas_is_never_sent():
    limits = OutputLimits(stop=("END",))

    assert feed_all(limits, ["Hello E", "N", "D and more"]) == ("Hello ", "stop")


def test_text_that_only_looks_like_a_stop_start_is_released():
    limits = OutputLimits(stop=("END",))

    assert feed_all(limits, ["Hello E", "xactly"]) == ("Hello Exactly", None)


def test_earliest_of_several_stop_sequences_wins():
    limits = OutputLimits(stop=("two", "one"))

    assert feed_all(limits, ["zero one two"]) == ("zero ", "stop")


@pytest.mark.parametrize("max_tokens", [1, 3, 7])
def test_max_tokens_cuts_exactly(max_tokens):
    limits = OutputLimits(max_tokens=max_tokens)

    text, finish = feed_all(limits, [" alpha", " beta", " gamma", " delta", " epsilon", " zeta", " eta", " theta"])

    assert finish == "length"
    assert count_tokens(text) == max_tokens


def test_no_limits_pass_text_through():
    limits = OutputLimits()

    assert not limits.active
    assert feed_all(limits, ["a", "b"]) == ("ab", None)
