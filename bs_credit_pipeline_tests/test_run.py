"""`bs-credit run` end to end through Dagster in process: inbox → intake → warehouse → lists → publish → snapshot."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pytest

from bs_credit_pipeline.defs.run import run_pipeline
from bs_credit_pipeline.paths import Home
from bs_credit_pipeline_tests.test_intake import penalty_row, write_xlsx

AS_OF = dt.date(2026, 11, 27)


@pytest.fixture
def home(tmp_path, monkeypatch) -> Home:
    monkeypatch.setenv("BS_CREDIT_PSEUDONYM_KEY", "test-key-not-secret-0123456789")
    return Home(tmp_path / "home").ensure()


def _query(home: Home, sql: str, params=()):
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        return conn.execute(sql, list(params)).fetchall()


def test_run_loads_good_files_next_to_a_corrupt_one_and_replaces_resubmissions(home):
    scjgj = home.inbox / "scjgj" / "2026-10"
    scjgj.mkdir(parents=True)
    write_xlsx(scjgj / "处罚.xlsx", [penalty_row(i) for i in range(4)])
    shutil.copy(scjgj / "处罚.xlsx", scjgj / "处罚（副本）.xlsx")  # the same file dropped twice
    yjj = home.inbox / "保山市应急管理局" / "2026-10"  # a folder named by the department's Chinese name
    yjj.mkdir(parents=True)
    (yjj / "损坏.xlsx").write_bytes((scjgj / "处罚.xlsx").read_bytes()[:700])
    wrong = home.inbox / "fy" / "2026-10"  # a penalty file in the court's folder
    wrong.mkdir(parents=True)
    write_xlsx(wrong / "处罚.xlsx", [penalty_row(9)])

    summary = run_pipeline(home, AS_OF, progress=False)
    assert summary.nightly_success
    assert sorted(summary.partitions_run) == ["fy|2026-10", "scjgj|2026-10", "yjj|2026-10"]
    current = _query(home, "SELECT count(*) FROM core.credit_record WHERE valid_to IS NULL")[0][0]
    assert current == 4
    statuses = dict(_query(home, "SELECT department || '/' || file_name, file_error_code FROM ops.submission"))
    assert statuses["yjj/损坏.xlsx"] == "F_UNREADABLE" and statuses["fy/处罚.xlsx"] == "F_WRONG_DEPARTMENT"
    assert (home.publish / AS_OF.isoformat() / "manifest.json").exists() and home.analytics.exists()

    # Nothing changed: no partition runs again, no new versions.
    again = run_pipeline(home, AS_OF, progress=False)
    assert again.partitions_run == [] and again.nightly_success

    # A resubmission that drops two rows and corrects one: old versions are kept, closed.
    (scjgj / "处罚（副本）.xlsx").unlink()
    write_xlsx(scjgj / "处罚.xlsx", [penalty_row(0), penalty_row(1, penalty_content="罚款一万元")])
    third = run_pipeline(home, AS_OF, progress=False)
    assert third.partitions_run == ["scjgj|2026-10"]
    reasons = dict(_query(home, """SELECT change_reason, count(*) FROM core.credit_record
                                   WHERE valid_to IS NULL GROUP BY ALL"""))
    assert reasons == {"new": 1, "corrected": 1}
    closed = _query(home, "SELECT count(*) FROM core.credit_record WHERE valid_to IS NOT NULL")[0][0]
    assert closed == 3  # two withdrawn, one superseded by its correction
