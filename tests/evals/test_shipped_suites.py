"""The suites that ship in evals/suites pass on the offline model, every conversation and
every paraphrase, through the whole pipeline (what `make eval` reports as 100%)."""

import asyncio
from pathlib import Path

import pytest

from evals.runner import conversations_run
from evals.suites import conversations_expand, suite_load

SUITES = sorted((Path(__file__).resolve().parents[2] / "evals" / "suites").glob("*.yaml"))


def test_every_skill_and_safety_area_has_a_suite_with_paraphrases():
    runs = [run for path in SUITES for run in conversations_expand(suite_load(path))]

    assert {path.stem for path in SUITES} >= {
        "accounts", "cards", "payments", "loans", "verification", "help", "safety",
    }
    assert sum(run.variant > 0 for run in runs) >= 30


@pytest.mark.parametrize("path", SUITES, ids=[path.stem for path in SUITES])
def test_shipped_suite_passes_on_the_offline_model(in_process, path):
    runs = conversations_expand(suite_load(path))

    results = asyncio.run(conversations_run(runs, in_process))

    failures = [f"{r.conversation.title}: {r.failure()}" for r in results if not r.passed]
    assert not failures, "\n".join(failures)
    assert sum(turn.unconfirmed_actions for r in results for turn in r.turns) == 0
