"""`bs-credit run` SIGKILLed at named points (faults.py), one kill after another on the same home: every next run
finishes in bounded time (a hang fails by timeout), and the end state equals an uninterrupted run's.

Before the OS lock and the dead-run reaping, a run killed inside a `warehouse` pool step left its slot claimed in
the Dagster instance and every later run hung (issue 17): here such a hang fails the test by timeout.
The benchmark bench/kill_trials.py runs the same kills on fresh homes, 50 trials.
"""

from __future__ import annotations

import pytest

from bs_credit_pipeline import faults
from bs_credit_pipeline.paths import Home
from bs_credit_pipeline_tests import faultkit

# (fault spec, inbox version the kill happens on), in the order the kills come. Each run picks up what the
# killed one before it left, so each spec names the hit at which that run reaches the point (faults.py).
KILLS_V1 = [
    "intake.before_manifest",     # 2026-10's file staged, no manifest
    "state.before_rename",        # 2026-10's manifest written, not yet renamed into place
    "load.begin",
    "load.before_commit",         # all of 2026-10 written inside the transaction
    "load.after_commit",          # 2026-10 committed; its Dagster step not yet reported
    "intake.before_manifest",     # 2026-10 is loaded (the warehouse says so): skipped; 2026-11's file staged
    "state.before_rename",        # 2026-11's manifest not renamed
    "load.begin",                 # 2026-11
    "load.before_commit",
    "run.after_intake_job",       # 2026-11 loaded and recorded, the nightly job not started
    "lists.before_commit",
    "publish.before_rename",
    "snapshot.before_swap",
    "snapshot.after_swap",
]
KILLS_V2 = [
    "intake.before_manifest",     # the corrected 2026-10 file
    "load.before_commit",         # its load
    "load.after_commit",
    "load.before_commit",         # 2026-10 is loaded: skipped; 2026-11's withdrawal (its folder emptied)
    "run.after_intake_job",       # withdrawal committed
    "lists.before_commit",
    "publish.before_rename",
    "snapshot.before_swap",
]


@pytest.fixture(scope="module")
def zygote(tmp_path_factory):
    z = faultkit.Zygote(tmp_path_factory.mktemp("runs"))
    yield z
    z.close()


def test_every_point_is_in_the_chains():
    named = {spec.split("@")[0] for spec in KILLS_V1 + KILLS_V2}
    assert named == set(faults.POINTS) and len(KILLS_V1 + KILLS_V2) >= 20


def _kill_one_after_another(zygote, home: Home, kills: list[str]) -> None:
    for spec in kills:
        code, output = zygote.run(home, spec)
        assert code == -9, f"{spec}: the run was not killed there (exit {code})\n{output[-3000:]}"
    code, output = zygote.run(home)
    assert code == 0 and "Traceback" not in output, output[-3000:]


# Two chains, so that the suite's two workers can run them side by side; 22 kills in all.
@pytest.mark.timeout(900)  # ~1-2 min on a quiet machine, more when it is shared
def test_a_first_load_killed_at_14_points_ends_as_an_uninterrupted_run(tmp_path, zygote, loaded_home):
    home = Home(tmp_path / "home")
    faultkit.inbox_v1(home)
    _kill_one_after_another(zygote, home, KILLS_V1)
    assert faultkit.outcome(home) == faultkit.outcome(loaded_home)  # loaded_home: v1 run once, uninterrupted


@pytest.mark.timeout(900)
def test_a_resubmission_killed_at_8_points_ends_as_an_uninterrupted_run(tmp_path, zygote, loaded_home):
    reference = faultkit.loaded_copy(loaded_home, tmp_path / "reference")
    faultkit.inbox_v2(reference)
    assert zygote.run(reference)[0] == 0
    home = faultkit.loaded_copy(loaded_home, tmp_path)
    faultkit.inbox_v2(home)
    _kill_one_after_another(zygote, home, KILLS_V2)
    assert faultkit.outcome(home) == faultkit.outcome(reference)
