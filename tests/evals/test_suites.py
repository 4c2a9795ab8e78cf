"""Suite files: a bad one gets an error that names the file, the line and the place."""

from pathlib import Path

import pytest

from evals.suites import SuiteError, conversations_expand, suite_load

GOOD = """\
suite: cards
defaults: {first_token_ms: 900}
conversations:
  - name: freeze
    caller: {channel: vapi, phone: "+14155550101"}
    turns:
      - user: freeze my card
        paraphrases: ["lock my visa", "block my card"]
        expect:
          tools: [freeze_card, {name: report_card_lost, arguments: {stolen: true}}]
          action: pending
      - user: "yes"
        paraphrases: ["go ahead"]
        expect: {action: executed, first_token_ms: 300}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    return path


def test_a_suite_loads_and_expands_its_paraphrases(tmp_path):
    runs = conversations_expand(suite_load(_write(tmp_path, GOOD)))

    assert [[turn.user for turn in run.turns] for run in runs] == [
        ["freeze my card", "yes"],
        ["lock my visa", "go ahead"],
        ["block my card", "yes"],
    ]
    assert runs[2].title == "freeze (paraphrase 2)"
    first = runs[0].turns[0].expect
    assert [tool.name for tool in first.tools] == ["freeze_card", "report_card_lost"]
    assert first.first_token_ms == 900  # the suite's default
    assert runs[0].turns[1].expect.first_token_ms == 300  # the turn's own budget


@pytest.mark.parametrize(
    ("change", "line", "place", "message"),
    [
        (
            ("action: pending", "action: maybe"),
            11,
            'conversations[0] "freeze".turns[0].expect.action',
            "Input should be 'none', 'pending', 'executed', 'cancelled' or 'refused'",
        ),
        (
            ("expect: {action: executed,", "expcet: {action: executed,"),
            14,
            'conversations[0] "freeze".turns[1].expcet',
            "Extra inputs are not permitted",
        ),
        (
            ("channel: vapi", "channel: fax"),
            5,
            'conversations[0] "freeze".caller.channel',
            "Input should be 'vapi', 'web' or 'anonymous'",
        ),
        (
            ("      - user: freeze my card\n", "      - paraphrases: []\n"),
            7,
            'conversations[0] "freeze".turns[0].user',
            "Field required",
        ),
    ],
)
def test_a_bad_suite_names_the_file_the_line_and_the_place(tmp_path, change, line, place, message):
    path = _write(tmp_path, GOOD.replace(*change))

    with pytest.raises(SuiteError) as raised:
        suite_load(path)

    assert str(raised.value).startswith(f"{path}, line {line} ({place}): {message}")


def test_a_file_that_is_not_yaml(tmp_path):
    path = _write(tmp_path, "suite: x\nconversations: [\n  - name: a\n   bad")

    with pytest.raises(SuiteError, match=rf"^{path}, line \d+: not valid YAML"):
        suite_load(path)


def test_a_missing_file(tmp_path):
    with pytest.raises(SuiteError, match="cannot read the suite file"):
        suite_load(tmp_path / "nowhere.yaml")


def test_a_regular_expression_that_does_not_compile(tmp_path):
    path = _write(tmp_path, GOOD.replace("action: pending", "matches: ['(unclosed']"))

    with pytest.raises(SuiteError, match=r"line 11 .*expect\.matches.*not a regular expression"):
        suite_load(path)


def test_two_conversations_with_one_name(tmp_path):
    doubled = GOOD + GOOD.split("conversations:\n", 1)[1]

    with pytest.raises(SuiteError, match="two conversations are called 'freeze'"):
        suite_load(_write(tmp_path, doubled))
