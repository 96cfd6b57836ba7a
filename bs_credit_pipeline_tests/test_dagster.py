"""The Dagster layer: definitions load, the sensor asks for the right runs, assets materialise in process."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil

import dagster as dg
import duckdb
import pytest

from bs_credit_pipeline.contracts import Registry
from bs_credit_pipeline.definitions import defs
from bs_credit_pipeline.defs.intake import rows_accounted_for, staged_submissions, submission_accepted
from bs_credit_pipeline.defs.jobs import nightly_schedule
from bs_credit_pipeline.defs.lists import (AS_OF_TAG, analytics_snapshot, credit_lists, every_entry_explained,
                                           no_raw_ids_in_snapshot, no_raw_ids_published, public_exports)
from bs_credit_pipeline.defs.partitions import department_month, partition_key
from bs_credit_pipeline.defs.resources import PipelineResource
from bs_credit_pipeline.defs.sensors import inbox_sensor
from bs_credit_pipeline.defs.warehouse import (manifests_agree, one_current_version_per_record, subject_ids_valid,
                                               warehouse_records)
from bs_credit_pipeline.demo import write_demo_inbox
from bs_credit_pipeline.paths import Home

AS_OF = dt.date(2026, 11, 27)


def test_definitions_load_with_partition_grid_sensor_and_schedule():
    repo = defs.get_repository_def()
    assert {j.name for j in repo.get_all_jobs()} >= {"intake_job", "nightly_job"}
    keys = department_month.get_partition_keys(current_time=dt.datetime(2026, 11, 27))
    departments = {k.keys_by_dimension["department"] for k in keys}
    assert departments == set(Registry.load().departments)
    months = sorted({k.keys_by_dimension["month"] for k in keys})
    assert months[0] == "2018-01" and months[-1] == "2026-11"
    assert inbox_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert nightly_schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert nightly_schedule.execution_timezone == "Asia/Shanghai" and nightly_schedule.cron_schedule == "0 2 * * *"


def test_schedule_tags_the_run_with_the_shanghai_date():
    context = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    request = nightly_schedule(context)
    assert request.tags[AS_OF_TAG] == "2026-11-28"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Home:
    home = Home(tmp_path / "home").ensure()
    monkeypatch.setenv("BS_CREDIT_HOME", str(home.root))
    monkeypatch.setenv("BS_CREDIT_PSEUDONYM_KEY", "test-key-not-secret")
    return home


def _one_file(home: Home) -> None:
    """The demo's court file (CSV) alone, in fy/2026-10."""
    demo = home.root / "demo_all"
    files = write_demo_inbox(demo, Registry.load(), AS_OF)
    src = next(f.path for f in files if f.path.name == "失信被执行人名单.csv")
    target = home.inbox / "fy" / "2026-10"
    target.mkdir(parents=True)
    shutil.copy(src, target / src.name)
    shutil.rmtree(demo)


def test_sensor_requests_one_run_per_changed_partition(home):
    _one_file(home)
    resource = PipelineResource(home_dir=str(home.root))
    ctx = dg.build_sensor_context(resources={"pipeline": resource})
    requests = inbox_sensor(ctx)
    assert len(requests) == 1
    dept, month, change = requests[0].run_key.split("|")
    loaded, wanted = change.split("->")
    assert (dept, month, loaded) == ("fy", "2026-10", "-") and len(wanted) == 16  # nothing loaded before
    assert requests[0].partition_key == partition_key("fy", "2026-10")
    assert requests[0].tags["bs_credit/department_name"] == "保山市中级人民法院"
    assert requests[0].tags["bs_credit/month"] == "2026-10" and "bs_credit/seen_at" in requests[0].tags
    # Unchanged inbox: skipped without hashing; a corrected file gives a new run key.
    again = inbox_sensor(dg.build_sensor_context(cursor=ctx.cursor, resources={"pipeline": resource}))
    assert isinstance(again, dg.SkipReason)
    path = next((home.inbox / "fy" / "2026-10").iterdir())
    path.write_bytes(path.read_bytes() + b"\r\n")
    changed = inbox_sensor(dg.build_sensor_context(cursor=ctx.cursor, resources={"pipeline": resource}))
    assert changed[0].run_key != requests[0].run_key
    assert len(json.loads(ctx.cursor)) == 1  # the cursor stays small: one listing signature


def test_assets_materialise_in_process_with_blocking_checks(home):
    _one_file(home)
    resources = {"pipeline": PipelineResource(home_dir=str(home.root))}
    result = dg.materialize([staged_submissions, warehouse_records, rows_accounted_for, submission_accepted,
                             one_current_version_per_record, subject_ids_valid, manifests_agree],
                            partition_key=partition_key("fy", "2026-10"), resources=resources)
    assert result.success
    meta = result.asset_materializations_for_node("staged_submissions")[0].metadata
    assert meta["rows_read"].value == meta["rows_loaded"].value + meta["rows_rejected"].value == 8
    checks = {e.asset_check_key.name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {"rows_accounted_for": True, "submission_accepted": True, "one_current_version_per_record": True,
                      "subject_ids_valid": True, "manifests_agree": True}
    # What was just loaded is what the sensor finds loaded: it asks for no run (one notion of "already loaded").
    assert isinstance(inbox_sensor(dg.build_sensor_context(resources=resources)), dg.SkipReason)
    nightly = dg.materialize([credit_lists, public_exports, analytics_snapshot, every_entry_explained,
                              no_raw_ids_published, no_raw_ids_in_snapshot], resources=resources,
                             tags={AS_OF_TAG: AS_OF.isoformat()})
    assert nightly.success
    checks = {e.asset_check_key.name: e.passed for e in nightly.get_asset_check_evaluations()}
    assert checks == {"every_entry_explained": True, "no_raw_ids_published": True, "no_raw_ids_in_snapshot": True}
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        listed = conn.execute("SELECT count(*) FROM mart.black_list WHERE as_of = ?", [AS_OF]).fetchone()[0]
    assert listed == 7  # eight court entries, one removed by the court
    assert (home.publish / AS_OF.isoformat()).is_dir() and home.analytics.exists()


def test_snapshot_hides_record_ids_but_keeps_them_joinable(home):
    """Record ids hash a key holding the raw citizen ID: the snapshot carries keyed tokens, consistently."""
    _one_file(home)
    resources = {"pipeline": PipelineResource(home_dir=str(home.root))}
    assert dg.materialize([staged_submissions, warehouse_records], partition_key=partition_key("fy", "2026-10"),
                          resources=resources).success
    assert dg.materialize([credit_lists, analytics_snapshot], resources=resources,
                          tags={AS_OF_TAG: AS_OF.isoformat()}).success
    with duckdb.connect(str(home.warehouse), read_only=True) as wh:
        raw_ids = {r[0] for r in wh.execute("SELECT record_id FROM core.credit_record").fetchall()}
    with duckdb.connect(str(home.analytics), read_only=True) as snap:
        text = "\n".join(str(row) for table in ("core.credit_record", "mart.record_status", "mart.black_list",
                                                "mart.punishment_measure", "mart.list_snapshot")
                         for row in snap.execute(f"SELECT * FROM {table}").fetchall())
        tokens = {r[0] for r in snap.execute("SELECT record_id FROM core.credit_record").fetchall()}
        status_ids = {r[0] for r in snap.execute("SELECT record_id FROM mart.record_status").fetchall()}
        reason_ids = {r[0] for r in snap.execute(
            "SELECT unnest(json_extract_string(reasons, '$[*].record_id')) FROM mart.black_list").fetchall()}
    assert not any(raw in text for raw in raw_ids)
    assert all(t.startswith("R_") for t in tokens) and len(tokens) == len(raw_ids)
    assert status_ids == tokens and reason_ids and reason_ids <= tokens


def test_a_fully_rejected_partition_fails_its_error_check_with_counts_and_report(home):
    """Every row of the court's file rejected (its IDs all blanked, a required column): read 8, loaded 0."""
    _one_file(home)
    path = next((home.inbox / "fy" / "2026-10").iterdir())
    header, *rows = list(csv.reader(io.StringIO(path.read_text(encoding="gb18030"))))
    column = next(i for i, h in enumerate(header) if "证件号码" in h or "信用代码" in h)
    for row in rows:
        row[column] = ""
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    path.write_text(out.getvalue(), encoding="gb18030")
    resources = {"pipeline": PipelineResource(home_dir=str(home.root))}
    result = dg.materialize([staged_submissions, warehouse_records, rows_accounted_for, submission_accepted,
                             manifests_agree], partition_key=partition_key("fy", "2026-10"), resources=resources,
                            raise_on_error=False)
    evaluation = next(e for e in result.get_asset_check_evaluations()
                      if e.asset_check_key.name == "submission_accepted")
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    meta = {k: v.value for k, v in evaluation.metadata.items()}
    assert (meta["rows_read"], meta["rows_loaded"], meta["rows_rejected"]) == (8, 0, 8)
    assert meta["reports"] and all(str(home.outbox) in r for r in meta["reports"])
    # The submission is still recorded: the warehouse load ran, so the scorecard and status see the rejection.
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        assert conn.execute("SELECT rows_read, rows_loaded FROM ops.submission").fetchall() == [(8, 0)]
