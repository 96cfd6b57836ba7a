"""`bs-credit run` SIGKILLed at named points (faults.py), one kill after another on the same home: every next run
finishes in bounded time, and the end state equals an uninterrupted run's.

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
    "load.after_commit",          # 2026-10 committed; its Dagster step and partitions.json not yet
    "run.after_intake_job",       # 2026-10 done again (a no-op load); partitions.json not yet
    "state.before_rename",        # partitions.json's new copy not renamed
    "intake.before_manifest",     # 2026-10 done again and recorded; 2026-11's file staged, no manifest
    "load.before_commit",         # 2026-11
    "run.after_intake_job",       # 2026-11 loaded, partitions.json not yet
    "lists.before_commit",
    "publish.before_rename",
    "snapshot.before_swap",
    "snapshot.after_swap",
]
KILLS_V2 = [
    "intake.before_manifest",     # the corrected 2026-10 file
    "load.before_commit",         # its load
    "load.after_commit",
    "load.before_commit@2",       # 2026-10 again (a no-op load, recorded), then 2026-11's withdrawal
    "run.after_intake_job",       # withdrawal committed, partitions.json not yet
    "lists.before_commit",
    "publish.before_rename",
    "snapshot.before_swap",
]


@pytest.fixture(scope="module")
def zygote(tmp_path_factory):
    z = faultkit.Zygote(tmp_path_factory.mktemp("runs"))
    yield z
    z.close()


def test_every_point_is_in_the_chain():
    named = {spec.split("@")[0] for spec in KILLS_V1 + KILLS_V2}
    assert named == set(faults.POINTS) and len(KILLS_V1 + KILLS_V2) >= 20


@pytest.mark.timeout(900)  # 25 runs: ~2-3 min on a quiet machine, more when it is shared
def test_runs_killed_at_22_points_recover_to_the_uninterrupted_result(tmp_path, zygote):
    reference = Home(tmp_path / "reference")
    faultkit.inbox_v1(reference)
    assert zygote.run(reference)[0] == 0
    faultkit.inbox_v2(reference)
    assert zygote.run(reference)[0] == 0

    home = Home(tmp_path / "home")
    faultkit.inbox_v1(home)
    for kills in (KILLS_V1, KILLS_V2):
        for spec in kills:
            code, output = zygote.run(home, spec)
            assert code == -9, f"{spec}: the run was not killed there (exit {code})\n{output[-3000:]}"
        if kills is KILLS_V1:
            faultkit.inbox_v2(home)  # the last v1 kill came after the snapshot swap: v1 is complete
    code, output = zygote.run(home)
    assert code == 0 and "Traceback" not in output, output[-3000:]
    assert faultkit.outcome(home) == faultkit.outcome(reference)
