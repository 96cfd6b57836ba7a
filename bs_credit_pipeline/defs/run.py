"""Run the pipeline in process through Dagster (what `bs-credit run` and `bs-credit demo` do).

Runs are recorded in the Dagster instance under $BS_CREDIT_HOME/dagster, so `dagster dev` shows them afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from tqdm import tqdm

from .. import faults
from ..atomic import atomic_write_bytes, atomic_write_text
from ..contracts import Registry
from ..locking import writer_lock
from ..paths import Home
from ..pipeline import fingerprint, fingerprint_of, intake_partition, scan_inbox
from .lists import AS_OF_TAG
from .partitions import partition_key

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}  # progress bar instead of debug events
INSTANCE_TEMPLATE = Path(__file__).resolve().parents[2] / "dagster.yaml"
STATE_FILE = "partitions.json"  # department|month -> content fingerprint last loaded
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


def process_tags() -> dict[str, str]:
    """Run tags naming the process that executes the run, so a later process can tell whether it is gone."""
    pid = os.getpid()
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


def read_state(home: Home) -> dict[str, str]:
    """staging/partitions.json; a torn or corrupt one is rebuilt from the warehouse's load records and rewritten,
    with a warning."""
    path = home.staging / STATE_FILE
    if not path.exists():
        return {}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(state, dict) and all(isinstance(v, str) for v in state.values()):
            return state
    except (ValueError, UnicodeDecodeError):
        pass
    state = state_from_warehouse(home)
    log.warning("%s is unreadable: rebuilt from the warehouse's load records (%d partitions)", path, len(state))
    atomic_write_text(path, json.dumps(state, indent=1, sort_keys=True))
    return state


def state_from_warehouse(home: Home) -> dict[str, str]:
    """department|month -> fingerprint of the files each partition last loaded (ops.submission, not superseded).

    The fingerprint is `pipeline.fingerprint`'s over the distinct files; a folder holding the same file twice then
    differs and is simply run again (a no-op load)."""
    if not home.warehouse.exists():
        return {}
    from ..warehouse import schema

    with writer_lock(home.root):
        conn = schema.connect(home.warehouse, read_only=True)
        try:
            if schema.current_version(conn) < 1:
                return {}
            rows = conn.execute("""SELECT department, month, list(sha256) FROM ops.submission
                                   WHERE status <> 'superseded' GROUP BY ALL""").fetchall()
        finally:
            conn.close()
    return {f"{department}|{month}": fingerprint_of(shas) for department, month, shas in rows}


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
    state_path = home.staging / STATE_FILE
    state = read_state(home)
    folders = scan_inbox(home, registry)
    todo = []
    for folder in folders:
        if not folder.valid:
            # Not a partition (unknown department folder or month): the officer still gets a report.
            intake_partition(home, registry, folder)
            summary.skipped_folders.append(f"{folder.folder_name}/{folder.month}")
            continue
        key = f"{folder.department}|{folder.month}"
        print_key = fingerprint(folder.files)
        if state.get(key) != print_key:
            todo.append((key, folder.department, folder.month, print_key))
    current = {f"{f.department}|{f.month}" for f in folders if f.valid}
    todo += [(key, *key.split("|"), None) for key in state if key not in current]  # emptied folders withdraw
    for key, department, month, print_key in tqdm(todo, desc="intake", unit="partition", disable=not progress):
        intake_job.execute_in_process(instance=instance, partition_key=partition_key(department, month),
                                      run_config=QUIET, tags=process_tags())
        faults.point("run.after_intake_job")
        if print_key is None:
            state.pop(key, None)
        else:
            state[key] = print_key
        atomic_write_text(state_path, json.dumps(state, indent=1, sort_keys=True))
        summary.partitions_run.append(key)
    result = nightly_job.execute_in_process(instance=instance, tags={AS_OF_TAG: as_of.isoformat(), **process_tags()},
                                            run_config=QUIET)
    summary.nightly_success = result.success
    return summary
