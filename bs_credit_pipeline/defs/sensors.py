"""inbox_sensor: lists and hashes inbox files (no parsing) and asks for one run per department × month whose
files differ from what the warehouse has loaded."""

import datetime as dt
import hashlib
import json

import dagster as dg

from ..arrival import SEEN_TAG
from ..config import ConfigError, check_configuration, sensor_seconds
from ..loaded import loaded_fingerprints, to_load
from ..locking import WarehouseBusy
from ..paths import Home
from ..pipeline import scan_inbox
from .jobs import intake_job
from .partitions import partition_key, partition_tags
from .resources import PipelineResource
from .run import reap_dead_runs


LOCK_WAIT_S = 20  # a long load holds the warehouse: skip this tick rather than reach the evaluation's 60 s timeout


def _interval() -> int:
    try:
        return sensor_seconds()
    except ConfigError:
        return 30  # the sensor's evaluation reports the mistake (check_configuration) as its skip reason


def _listing_signature(folders) -> str:
    """Cheap signature of the inbox (paths, sizes, mtimes): when it is unchanged, nothing is hashed."""
    h = hashlib.sha256()
    for folder in folders:
        for f in folder.files:
            st = f.stat()
            h.update(f"{f}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


@dg.sensor(job=intake_job, minimum_interval_seconds=_interval(), default_status=dg.DefaultSensorStatus.RUNNING,
           description="收件箱监测：每隔 BS_CREDIT_SENSOR_SECONDS 秒（默认 30）查看 inbox/，某部门某月的文件与数据仓库已入库的不同时，"
           "为该分区发起一次入库运行；同样的文件不会重复入库（与 bs-credit run 共用入库记录）。 | One run per (department, "
           "month) whose files differ from what the warehouse loaded; run_key = department|month|loaded->wanted.")
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
    for folder in folders:
        if not folder.valid:
            context.log.warning("inbox folder %s/%s is not a registered department and YYYY-MM month: skipped "
                                "(run `bs-credit check` on its files for a report)", folder.folder_name, folder.month)
    try:
        loaded = loaded_fingerprints(pipeline.home, wait=LOCK_WAIT_S)
    except WarehouseBusy:  # a long load holds the warehouse: look again at the next tick (cursor unchanged)
        return dg.SkipReason("the warehouse is busy; the inbox is looked at again at the next tick")
    seen = dt.datetime.now(dt.timezone.utc).isoformat()
    # run_key: the partition and its change (loaded -> wanted), so going back to an earlier content runs again.
    requests = [dg.RunRequest(run_key=f"{department}|{month}|{loaded.get((department, month), '-')}->{content or '-'}",
                              partition_key=partition_key(department, month),
                              tags={**partition_tags(pipeline.registry, department, month), SEEN_TAG: seen})
                for department, month, content in to_load(pipeline.home, folders, loaded)]
    context.update_cursor(json.dumps({"listing": signature}))
    return requests or dg.SkipReason("everything in the inbox is loaded")
