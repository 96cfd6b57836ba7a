"""Run the pipeline in process through Dagster (what `bs-credit run` and `bs-credit demo` do).

Runs are recorded in the Dagster instance under $BS_CREDIT_HOME/dagster, so `dagster dev` shows them afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from tqdm import tqdm

from ..contracts import Registry
from ..paths import Home
from ..pipeline import fingerprint, intake_partition, scan_inbox
from .lists import AS_OF_TAG
from .partitions import partition_key

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}  # progress bar instead of debug events
INSTANCE_TEMPLATE = Path(__file__).resolve().parents[2] / "dagster.yaml"
STATE_FILE = "partitions.json"  # department|month -> content fingerprint last loaded


def prepare_instance(home: Home) -> dg.DagsterInstance:
    """DAGSTER_HOME = $BS_CREDIT_HOME/dagster, with the project's dagster.yaml (pool limit 1) copied in."""
    home.ensure()
    os.environ["BS_CREDIT_HOME"] = str(home.root)
    os.environ["DAGSTER_HOME"] = str(home.dagster_home)
    target = home.dagster_home / "dagster.yaml"
    if not target.exists() and INSTANCE_TEMPLATE.exists():
        shutil.copyfile(INSTANCE_TEMPLATE, target)
    return dg.DagsterInstance.get()


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
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
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
                                      run_config=QUIET)
        if print_key is None:
            state.pop(key, None)
        else:
            state[key] = print_key
        state_path.write_text(json.dumps(state, indent=1, sort_keys=True))
        summary.partitions_run.append(key)
    result = nightly_job.execute_in_process(instance=instance, tags={AS_OF_TAG: as_of.isoformat()}, run_config=QUIET)
    summary.nightly_success = result.success
    return summary
