"""inbox_sensor: lists and hashes inbox files (no parsing) and asks for one run per changed department × month."""

import hashlib
import json

import dagster as dg

from ..config import ConfigError, check_configuration
from ..paths import Home
from ..pipeline import fingerprint, scan_inbox
from .jobs import intake_job
from .partitions import partition_key
from .resources import PipelineResource
from .run import reap_dead_runs


def _listing_signature(folders) -> str:
    """Cheap signature of the inbox (paths, sizes, mtimes): when it is unchanged, nothing is hashed."""
    h = hashlib.sha256()
    for folder in folders:
        for f in folder.files:
            st = f.stat()
            h.update(f"{f}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


@dg.sensor(job=intake_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="One run per (department, month) whose files changed; run_key = department|month|content hash, "
           "so a corrected resubmission runs again and an identical drop does not.")
def inbox_sensor(context: dg.SensorEvaluationContext, pipeline: PipelineResource):
    if context.instance_ref is not None:  # a killed run's pool slot would block every run this sensor asks for
        reap_dead_runs(context.instance)
    try:
        check_configuration(Home.from_env(pipeline.home_dir or None))
    except ConfigError as exc:
        return dg.SkipReason(exc.line())
    folders = scan_inbox(pipeline.home, pipeline.registry)
    signature = _listing_signature(folders)
    cursor = json.loads(context.cursor) if context.cursor else {}
    if cursor.get("listing") == signature:
        return dg.SkipReason("inbox unchanged")
    requests = []
    for folder in folders:
        if not folder.valid:
            context.log.warning("inbox folder %s/%s is not a registered department and YYYY-MM month: skipped "
                                "(run `bs-credit check` on its files for a report)", folder.folder_name, folder.month)
            continue
        content = fingerprint(folder.files)
        requests.append(dg.RunRequest(run_key=f"{folder.department}|{folder.month}|{content}",
                                      partition_key=partition_key(folder.department, folder.month)))
    context.update_cursor(json.dumps({"listing": signature}))
    return requests or dg.SkipReason("no submissions in the inbox")
