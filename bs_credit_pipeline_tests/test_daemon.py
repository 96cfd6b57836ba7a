"""A real dagster-daemon on a temporary home, started as README.md says: a dropped folder is loaded by the
sensor's run with its checks passing; a fully rejected file fails its ERROR check `submission_accepted`.

The bound is generous for a shared CI machine (the benchmark bench/ops.py measures the latency)."""

from __future__ import annotations

import pytest

from bs_credit_pipeline.loaded import loaded_fingerprints
from bs_credit_pipeline.paths import Home
from bs_credit_pipeline_tests import faultkit
from bs_credit_pipeline_tests.daemonkit import Daemon
from bs_credit_pipeline_tests.test_intake import penalty_row

BOUND_S = 150  # the daemon's and code server's start, a 5 s sensor interval, the run; ~30 s on an idle machine


@pytest.fixture
def daemon(tmp_path):
    d = Daemon(tmp_path, BS_CREDIT_SENSOR_SECONDS="5")
    d.start()
    yield d
    d.stop()
    assert d.processes() == []  # nothing left running


@pytest.mark.timeout(2 * BOUND_S + 60)
def test_a_dropped_folder_is_loaded_and_a_rejected_one_fails_its_error_check(daemon, tmp_path):
    good = faultkit.write_csv(tmp_path / "src" / "处罚.csv", [penalty_row(0), penalty_row(1, person=True)])
    dropped = daemon.drop("scjgj", "2026-10", [good])
    run = daemon.wait_run("scjgj", "2026-10", BOUND_S, after=dropped)
    assert run.dagster_run.status.value == "SUCCESS", daemon.tail()
    assert run.dagster_run.tags["bs_credit/department_name"] == "保山市市场监督管理局"
    checks = daemon.checks(run.dagster_run.run_id)
    assert {name: c.passed for name, c in checks.items()} == {
        "rows_accounted_for": True, "submission_accepted": True, "one_current_version_per_record": True,
        "subject_ids_valid": True, "manifests_agree": True}
    assert set(loaded_fingerprints(Home(daemon.home))) == {("scjgj", "2026-10")}

    # Every row's USCC invalid: read 2, loaded 0 — the run loads the rejection record, its check is red.
    bad = faultkit.write_csv(tmp_path / "bad" / "处罚.csv",
                             [penalty_row(2, uscc="91530500ABCDEFGHIJ"), penalty_row(3, uscc="123")])
    dropped = daemon.drop("scjgj", "2026-11", [bad])
    run = daemon.wait_run("scjgj", "2026-11", BOUND_S, after=dropped)
    accepted = daemon.checks(run.dagster_run.run_id)["submission_accepted"]
    assert not accepted.passed and accepted.severity.value == "ERROR"
    meta = {k: v.value for k, v in accepted.metadata.items()}
    assert (meta["rows_read"], meta["rows_loaded"], meta["rows_rejected"]) == (2, 0, 2)
    assert meta["reports"] and all("outbox" in r for r in meta["reports"])
