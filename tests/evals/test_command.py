"""`manage.py eval_conversations` as an operator runs it: its own fresh database, a report
on stdout, JSON and JUnit files, exit status 1 when a conversation fails."""

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SUITE = """\
suite: smoke
conversations:
  - name: freeze and confirm
    caller: {channel: vapi, phone: "+14155550101"}
    turns:
      - user: please freeze my card
        paraphrases: ["lock my visa"]
        expect: {tools: [freeze_card], action: pending, says: ["Say yes to confirm"]}
      - user: "yes"
        expect: {action: executed, says: ["%s"]}
"""


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'configured.sqlite3'}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "manage.py", "eval_conversations", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_passing_suite_reports_as_a_table_json_and_junit(tmp_path):
    suite = tmp_path / "smoke.yaml"
    suite.write_text(SUITE % "is now frozen")

    done = _run(tmp_path, str(suite), "--json", str(tmp_path / "r.json"), "--junit", str(tmp_path / "r.xml"))

    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS  smoke: freeze and confirm (paraphrase 1)" in done.stdout
    assert "Pass rate: 100% (2/2 conversations, 4/4 turns)" in done.stdout
    assert "Unconfirmed actions: 0 (must be 0)" in done.stdout
    assert "in-process, provider offline" in done.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["totals"]["tool_choice_accuracy"] == 1.0
    assert report["totals"]["completion_tokens"] > 0
    assert report["conversations"][0]["turns"][1]["tools_called"] == [
        {"name": "confirm_pending_action", "arguments": {}}
    ]
    junit = ET.parse(tmp_path / "r.xml").getroot()
    assert junit.find("testsuite").get("tests") == "2"
    assert junit.find("testsuite").get("failures") == "0"
    # The configured database was never touched: the evaluation made its own.
    assert not (tmp_path / "configured.sqlite3").exists() or (tmp_path / "configured.sqlite3").stat().st_size == 0


def test_a_wrong_expectation_fails_the_command_and_names_the_turn(tmp_path):
    suite = tmp_path / "smoke.yaml"
    suite.write_text(SUITE % "is now on fire")

    done = _run(tmp_path, str(suite), "--junit", str(tmp_path / "r.xml"))

    assert done.returncode == 1
    assert "2 of 2 conversations failed" in done.stderr
    assert (
        "- smoke: freeze and confirm: turn 2 ('yes'): expected the answer to say 'is now on fire'"
        in done.stdout
    )
    failure = ET.parse(tmp_path / "r.xml").getroot().find("testsuite/testcase/failure")
    assert failure.get("message").startswith("turn 2 ('yes'): expected the answer to say")


def test_a_bad_suite_file_is_a_clear_error(tmp_path):
    suite = tmp_path / "bad.yaml"
    suite.write_text((SUITE % "x").replace("action: pending", "action: sometime"))

    done = _run(tmp_path, str(suite))

    assert done.returncode == 1
    assert f"{suite}, line 8 (conversations[0] \"freeze and confirm\".turns[0].expect.action)" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_provider_without_its_settings_is_a_clear_error(tmp_path):
    suite = tmp_path / "smoke.yaml"
    suite.write_text(SUITE % "x")

    done = _run(tmp_path, str(suite), "--provider", "openai")

    assert done.returncode == 1
    assert "The provider is not configured: " in done.stderr
    assert "LLM_API_ENDPOINT" in done.stderr
    assert "Traceback" not in done.stderr
