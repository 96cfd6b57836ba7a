"""Arrival time is the file's (arrival.py): a punctual file processed late stays punctual; reprocessing keeps it.
Whether a submission was accepted (acceptance.py). Outcomes worked out by hand from scorecard.yaml's rule:
2026-10's data is due by 2026-11-10 (deadline: months_after 1, day 10) in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt
import json
import os

import duckdb

from bs_credit_pipeline import arrival
from bs_credit_pipeline.acceptance import judge
from bs_credit_pipeline.contracts import Registry
from bs_credit_pipeline.paths import Home
from bs_credit_pipeline.pipeline import intake_partition, scan_inbox
from bs_credit_pipeline_tests import faultkit

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
DELIVERED = dt.datetime(2026, 11, 5, 10, 0, tzinfo=SHANGHAI)  # five days before the deadline


def test_arrival_is_the_earliest_of_mtime_first_sight_and_record(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("x")
    os.utime(path, (DELIVERED.timestamp(),) * 2)
    later = DELIVERED + dt.timedelta(days=20)
    assert arrival.received_at(path, seen=later) == DELIVERED
    assert arrival.received_at(path, seen=DELIVERED - dt.timedelta(hours=1)) == DELIVERED - dt.timedelta(hours=1)
    assert arrival.received_at(path, seen=later, recorded=DELIVERED - dt.timedelta(days=2)) == \
        DELIVERED - dt.timedelta(days=2)


def test_a_punctual_file_processed_late_stays_punctual(tmp_path, monkeypatch):
    home = Home(tmp_path / "home")
    faultkit.inbox_v1(home)
    for f in (home.inbox / "scjgj" / "2026-10").iterdir():
        os.utime(f, (DELIVERED.timestamp(),) * 2)  # it landed on 5 November; the pipeline runs weeks later
    assert faultkit.run_here(home, monkeypatch, "--as-of", "2026-11-30") == 0
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        status, on_time, delivered = conn.execute(
            "SELECT status, on_time, delivered_at FROM mart.department_scorecard "
            "WHERE department = 'scjgj' AND month = '2026-10' AND as_of = DATE '2026-11-30'").fetchone()
        received = conn.execute("SELECT received_at, processed_at FROM ops.submission WHERE month = '2026-10'").fetchone()
    assert (status, on_time, delivered) == ("on_time", True, DELIVERED.replace(tzinfo=None))
    assert received[0] == DELIVERED and received[1] > DELIVERED + dt.timedelta(days=20)

    # Reprocessed (its staged manifest lost, the file touched by a later copy): the recorded arrival is kept.
    staging = home.partition_staging("scjgj", "2026-10")
    for manifest in staging.glob("*.manifest.json"):
        manifest.unlink()
    for f in (home.inbox / "scjgj" / "2026-10").iterdir():
        os.utime(f)
    folder = next(f for f in scan_inbox(home, Registry.load()) if f.month == "2026-10")
    results = intake_partition(home, Registry.load(), folder, seen=dt.datetime.now(dt.timezone.utc))
    assert [arrival.parse(r.manifest["received_at"]) for r in results] == [DELIVERED]
    assert [arrival.parse(json.loads(m.read_text())["received_at"]) for m in staging.glob("*.manifest.json")] == \
        [DELIVERED]


def _m(read, loaded, rejected, file_error=None):
    return {"rows_read": read, "rows_loaded": loaded, "rows_rejected": rejected, "file_error": file_error}


def test_a_submission_is_accepted_unless_nothing_loaded_or_too_much_rejected():
    assert judge([_m(10, 10, 0)], 0.5).passed
    assert judge([_m(10, 5, 5)], 0.5).passed  # exactly at the limit: accepted
    over = judge([_m(10, 4, 6)], 0.5)
    assert not over.passed and over.reject_rate == 0.6 and "60.0%" in over.reason
    none = judge([_m(8, 0, 8)], 0.9)  # rows read and none loaded fails whatever the limit
    assert not none.passed and (none.rows_read, none.rows_loaded, none.rows_rejected) == (8, 0, 8)
    whole = judge([_m(0, 0, 0, {"code": "F_UNKNOWN_KIND"}), _m(0, 0, 0, {"code": "F_EMPTY"})], 0.5)
    assert not whole.passed and whole.files_rejected_whole == 2
    two = judge([_m(10, 10, 0), _m(10, 0, 10)], 0.5)  # one good file, one fully rejected: 50 %, accepted
    assert two.passed and two.reject_rate == 0.5
    assert judge([], 0.5).passed  # an emptied folder: nothing to accept
