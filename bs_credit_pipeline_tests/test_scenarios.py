"""The hand-written list scenarios (scenarios/*.yaml) through intake → warehouse → lists in one temporary home.

Expected values were worked out by hand from the rules (data_contracts/rules/) and the sources they cite, before
the code ran; see scenarios/README.md.
"""

from __future__ import annotations

import pytest

from bs_credit_pipeline_tests.scenario_runner import Suite, load_scenarios

SCENARIOS = load_scenarios()
# One home for the whole suite: its setup (intake, load, ~80 nightly builds) runs inside the first test, ~2-4 min on
# 2 cores; the global 300 s timeout is too tight for it when the machine is shared.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("BS_CREDIT_PSEUDONYM_KEY", "scenario-key-not-secret-0123456789")
    s = Suite(SCENARIOS, tmp_path_factory.mktemp("scenarios"))
    s.run()
    yield s
    mp.undo()


def test_every_scenario_row_is_accepted_by_intake(suite):
    assert suite.rejections == []


def test_the_suite_is_large_enough():
    assert len(SCENARIOS) >= 100


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(suite, scenario):
    problems = suite.check(scenario)
    assert not problems, "\n".join(problems)
