"""intake_batch_job: several department × month partitions in one run, with Dagster's multiprocess executor.
The intakes run in separate processes at the same time; the loads (pool `warehouse`, limit 1) one after another;
the warehouse ends as a partition-by-partition in-process run leaves it."""

from __future__ import annotations

import datetime as dt
import os

import dagster as dg
import duckdb
import pytest

from bs_credit_pipeline import faults
from bs_credit_pipeline.config import ConfigError
from bs_credit_pipeline.contracts import Registry
from bs_credit_pipeline.defs.batch import chosen_partitions
from bs_credit_pipeline.defs.partitions import partition_key
from bs_credit_pipeline.defs.resources import PipelineResource
from bs_credit_pipeline.defs.run import PID_TAG, prepare_instance, run_batch
from bs_credit_pipeline.loaded import to_load
from bs_credit_pipeline.demo import write_demo_inbox
from bs_credit_pipeline.paths import Home
from bs_credit_pipeline.pipeline import scan_inbox

AS_OF = dt.date(2026, 11, 27)
PARTITIONS = [("scjgj", "2026-10"), ("fy", "2026-10")]
CURRENT = """SELECT department, month, record_id, version, kind, subject_id, content_hash FROM core.credit_record
             WHERE valid_to IS NULL ORDER BY ALL"""


def _home(root, monkeypatch) -> Home:
    home = Home(root).ensure()
    monkeypatch.setenv("BS_CREDIT_PSEUDONYM_KEY", "test-key-not-secret")
    write_demo_inbox(home.inbox, Registry.load(), AS_OF)
    return home


def _steps(instance: dg.DagsterInstance, run_id: str, name: str) -> list[dict]:
    """Per step of one op: its process and its start and end (event timestamps)."""
    steps: dict[str, dict] = {}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or not event.step_key or not event.step_key.startswith(name):
            continue
        step = steps.setdefault(event.step_key, {})
        if event.event_type == dg.DagsterEventType.STEP_START:
            step.update(pid=event.pid, start=record.timestamp)
        elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            step["end"] = record.timestamp
    return list(steps.values())


def _overlap(a: dict, b: dict) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


def test_intakes_run_in_parallel_processes_and_loads_one_at_a_time(tmp_path, monkeypatch):
    home = _home(tmp_path / "batch", monkeypatch)
    meet = tmp_path / "meet"
    meet.mkdir()
    # Each intake waits inside its step for the other (faults' `meet`): they overlap however the machine is loaded.
    monkeypatch.setenv(faults.FAULT_VAR, "intake.before_manifest:meet")
    monkeypatch.setenv(faults.MEET_VAR, f"{meet}:{len(PARTITIONS)}")
    result = run_batch(home, PARTITIONS)
    assert result.success
    assert len(list(meet.iterdir())) == len(PARTITIONS)
    instance = dg.DagsterInstance.get()
    intakes = _steps(instance, result.run_id, "intake_partition_step")
    loads = _steps(instance, result.run_id, "load_partition_step")
    assert len(intakes) == len(loads) == 2
    pids = {s["pid"] for s in intakes + loads}
    assert len(pids) == 4 and os.getpid() not in pids  # a process per step, none of them the run's own
    assert any(_overlap(a, b) for a in intakes for b in intakes if a is not b)  # two intakes at the same time
    assert not any(_overlap(a, b) for a in loads for b in loads if a is not b)  # one writer at a time
    run = instance.get_run_by_id(result.run_id)
    assert run.tags[PID_TAG] == str(os.getpid())  # the run's process, not a step's that has ended
    for asset in ("staged_submissions", "warehouse_records"):
        done = instance.get_materialized_partitions(dg.AssetKey(asset))
        assert done == {str(partition_key(d, m)) for d, m in PARTITIONS}
    checks = [e.event_specific_data for e in result.all_events if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION]
    assert len(checks) == 2 * 5 and all(c.passed for c in checks)

    # The same partitions, one in-process intake_job run after another: the same warehouse.
    other = _home(tmp_path / "sequential", monkeypatch)
    instance = prepare_instance(other)
    from bs_credit_pipeline.definitions import defs

    job = defs.resolve_job_def("intake_job")
    for department, month in PARTITIONS:
        assert job.execute_in_process(instance=instance, partition_key=partition_key(department, month)).success
    with duckdb.connect(str(home.warehouse), read_only=True) as a, duckdb.connect(str(other.warehouse),
                                                                                 read_only=True) as b:
        rows = a.execute(CURRENT).fetchall()
        assert rows == b.execute(CURRENT).fetchall()
    assert {(r[0], r[1]) for r in rows} == set(PARTITIONS)


def test_partitions_are_checked_before_any_work(tmp_path, monkeypatch):
    home = _home(tmp_path / "home", monkeypatch)
    pipeline = PipelineResource(home_dir=str(home.root))
    assert chosen_partitions(pipeline, []) == sorted(to_load_now(home))  # default: what `bs-credit run` would load
    assert chosen_partitions(pipeline, ["fy|2026-10", "fy|2026-10"]) == [("fy", "2026-10")]
    for wrong in ("nosuch|2026-10", "fy|2026-13", "fy"):
        with pytest.raises(ConfigError) as raised:
            chosen_partitions(pipeline, [wrong])
        assert f"分区“{wrong}”无效" in raised.value.line()
    assert not home.warehouse.exists() and not any(home.staging.iterdir())


def to_load_now(home: Home) -> list[tuple[str, str]]:
    return [(d, m) for d, m, _ in to_load(home, scan_inbox(home, Registry.load()))]


@pytest.fixture(autouse=True)
def _environment(monkeypatch, tmp_path):
    """prepare_instance sets DAGSTER_HOME and BS_CREDIT_HOME: monkeypatch restores them for the worker's other tests."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("BS_CREDIT_HOME", str(tmp_path))
