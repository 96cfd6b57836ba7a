"""Run the pipeline in process through Dagster (what `bs-credit run` and `bs-credit demo` do).

Runs are recorded in the Dagster instance under $BS_CREDIT_HOME/dagster, so `bs-credit ui` shows them afterwards.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from tqdm import tqdm

from .. import faults
from ..atomic import atomic_write_bytes
from ..contracts import Registry
from ..paths import Home
from ..arrival import SEEN_TAG
from ..loaded import to_load
from ..pipeline import intake_partition, scan_inbox
from .lists import AS_OF_TAG
from .partitions import partition_key, partition_tags

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}  # progress bar instead of debug events
INSTANCE_TEMPLATE = Path(__file__).resolve().parents[2] / "dagster.yaml"
RETIRED_STATE_FILE = "partitions.json"  # the side file earlier versions kept; the warehouse's records replace it
PID_TAG, HOST_TAG, STARTED_TAG = "bs_credit/pid", "bs_credit/host", "bs_credit/process_started"
UNFINISHED = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
              dg.DagsterRunStatus.CANCELING]
log = logging.getLogger(__name__)


def _process_started(pid: int) -> str:
    """The process's start time in clock ticks since boot (/proc/<pid>/stat field 22): tells a reused PID apart."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def run_process_id() -> int:
    """The process executing the run: this one, or, in a step process of the multiprocess executor, the run
    process that started it (a step process ends with its step while the run goes on)."""
    parent = multiprocessing.parent_process()
    return parent.pid if parent is not None else os.getpid()


def process_tags() -> dict[str, str]:
    """Run tags naming the process that executes the run, so a later process can tell whether it is gone."""
    pid = run_process_id()
    return {PID_TAG: str(pid), HOST_TAG: socket.gethostname(), STARTED_TAG: _process_started(pid)}


def _process_gone(tags) -> bool:
    """True when the run's tags name a process on this host that no longer exists (or is another process now)."""
    if tags.get(HOST_TAG) != socket.gethostname() or not tags.get(PID_TAG, "").isdigit():
        return False
    pid = int(tags[PID_TAG])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    started = tags.get(STARTED_TAG)
    return bool(started) and _process_started(pid) not in ("", started)


def reap_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark runs whose process died (SIGKILL, OOM killer, reboot) failed and free every concurrency slot held by
    a finished run. Without this, a killed run's `warehouse` pool slot stays claimed and every later run waits for
    it for ever. Returns the ids of the runs marked failed."""
    reaped = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=UNFINISHED)):
        run = record.dagster_run
        if _process_gone(run.tags):
            instance.report_run_failed(run, message=f"the process running it (PID {run.tags[PID_TAG]}) is gone: "
                                       "killed or crashed; marked failed by a later bs-credit process")
            reaped.append(run.run_id)
            log.warning("run %s: its process %s is gone; marked failed", run.run_id, run.tags[PID_TAG])
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        holders = storage.get_concurrency_run_ids()
        if holders:
            active = {r.dagster_run.run_id for r in instance.get_run_records(
                dg.RunsFilter(run_ids=list(holders), statuses=UNFINISHED))}
            for run_id in holders - active:
                storage.free_concurrency_slots_for_run(run_id)
                log.warning("freed the concurrency slots still held by finished run %s", run_id)
    return reaped


def prepare_instance(home: Home) -> dg.DagsterInstance:
    """DAGSTER_HOME = $BS_CREDIT_HOME/dagster, with the project's dagster.yaml (pool limit 1, run monitoring) copied
    in (again when the project's file changed); dead runs are reaped before anything runs."""
    home.ensure()
    os.environ["BS_CREDIT_HOME"] = str(home.root)
    os.environ["DAGSTER_HOME"] = str(home.dagster_home)
    target = home.dagster_home / "dagster.yaml"
    if INSTANCE_TEMPLATE.exists():
        wanted = INSTANCE_TEMPLATE.read_bytes()
        if not target.exists() or target.read_bytes() != wanted:
            atomic_write_bytes(target, wanted)
    instance = dg.DagsterInstance.get()
    reap_dead_runs(instance)
    return instance


def retire_state_file(home: Home) -> None:
    """Remove staging/partitions.json left by an earlier version: what is loaded is read from the warehouse
    (loaded.py), so the file would only mislead whoever reads it."""
    path = home.staging / RETIRED_STATE_FILE
    if path.exists():
        path.unlink()
        log.info("removed %s: what is loaded is now read from the warehouse's load records", path)


@dataclass
class RunSummary:
    as_of: dt.date
    partitions_run: list[str] = field(default_factory=list)
    skipped_folders: list[str] = field(default_factory=list)
    nightly_success: bool = False


def run_pipeline(home: Home, as_of: dt.date, *, progress: bool = True) -> RunSummary:
    """Intake + load every inbox partition whose files changed, then the nightly job as of `as_of`."""
    instance = prepare_instance(home)
    from ..definitions import defs

    registry = Registry.load()
    intake_job = defs.resolve_job_def("intake_job")
    nightly_job = defs.resolve_job_def("nightly_job")
    summary = RunSummary(as_of)
    retire_state_file(home)
    seen = dt.datetime.now(dt.timezone.utc)
    folders = scan_inbox(home, registry)
    for folder in folders:
        if not folder.valid:
            # Not a partition (unknown department folder or month): the officer still gets a report.
            intake_partition(home, registry, folder, seen=seen)
            summary.skipped_folders.append(f"{folder.folder_name}/{folder.month}")
    todo = to_load(home, folders)
    for department, month, _ in tqdm(todo, desc="intake", unit="partition", disable=not progress):
        intake_job.execute_in_process(instance=instance, partition_key=partition_key(department, month),
                                      run_config=QUIET, tags={**partition_tags(registry, department, month),
                                                              SEEN_TAG: seen.isoformat(), **process_tags()})
        faults.point("run.after_intake_job")
        summary.partitions_run.append(f"{department}|{month}")
    result = nightly_job.execute_in_process(instance=instance, tags={AS_OF_TAG: as_of.isoformat(), **process_tags()},
                                            run_config=QUIET)
    summary.nightly_success = result.success
    return summary


def batch_job() -> dg.JobDefinition:
    """intake_batch_job with its resources, as a step process rebuilds it (dg.reconstructable)."""
    from ..definitions import defs

    return defs.resolve_job_def("intake_batch_job")


def run_batch(home: Home, partitions: list[tuple[str, str]] | None = None, *,
              max_concurrent: int | None = None) -> dg.JobExecutionResult:
    """Intake + load of many partitions in one run of intake_batch_job (multiprocess executor: intakes in
    parallel, loads one at a time). None: every inbox folder the warehouse has not loaded as it is now."""
    instance = prepare_instance(home)
    config: dict = {"ops": {"batch_partitions": {"config": {
        "partitions": [f"{d}|{m}" for d, m in partitions or []]}}}, **QUIET}
    if max_concurrent is not None:
        config["execution"] = {"config": {"max_concurrent": max_concurrent}}
    seen = dt.datetime.now(dt.timezone.utc)
    with dg.execute_job(dg.reconstructable(batch_job), instance=instance, run_config=config,
                        tags={SEEN_TAG: seen.isoformat(), **process_tags()}) as result:
        return result
