"""Intake assets: a department's files for a month → staged rows, rejections and reports."""

import dagster as dg

from ..pipeline import InboxFolder, intake_partition, scan_inbox
from ..warehouse.staged import staged_files
from .partitions import department_month
from .resources import PipelineResource


@dg.asset(
    partitions_def=department_month,
    group_name="intake",
    kinds={"excel", "parquet"},
    description="A department's submitted files for a month, validated against their data contracts: valid rows "
    "staged as Parquet, every rejected row kept with its reasons, an annotated report in outbox/.",
)
def staged_submissions(context: dg.AssetExecutionContext, pipeline: PipelineResource) -> dg.MaterializeResult:
    keys = context.partition_key.keys_by_dimension
    department, month = keys["department"], keys["month"]
    folders = [f for f in scan_inbox(pipeline.home, pipeline.registry)
               if f.department == department and f.month == month]
    # An emptied folder still runs: its staged files go, and the warehouse load withdraws their records.
    folders = folders or [InboxFolder(department, department, month, ())]
    for folder in folders:
        for result in intake_partition(pipeline.home, pipeline.registry, folder):
            context.log.info("%s: %s", result.manifest["file_name"], result.status)
    manifests = [s.manifest for s in staged_files(pipeline.home.staging, department, month)]
    rows = [{k: m[k] for k in ("file_name", "kind", "status", "rows_read", "rows_loaded", "rows_rejected")}
            for m in manifests]
    return dg.MaterializeResult(metadata={
        "files": len(manifests),
        "rows_read": sum(m["rows_read"] for m in manifests),
        "rows_loaded": sum(m["rows_loaded"] for m in manifests),
        "rows_rejected": sum(m["rows_rejected"] for m in manifests),
        "dagster/row_count": sum(m["rows_loaded"] for m in manifests),
        "preview": dg.MetadataValue.md(_table(rows)),
        "reports": dg.MetadataValue.json([m.get("report_path") for m in manifests]),
    })


def _table(rows: list[dict]) -> str:
    if not rows:
        return "_no files_"
    head = "| " + " | ".join(rows[0]) + " |\n|" + "---|" * len(rows[0]) + "\n"
    return head + "\n".join("| " + " | ".join(str(v) for v in r.values()) + " |" for r in rows)


@dg.asset_check(asset=staged_submissions, blocking=True,
                description="Every file: rows read = rows loaded + rows rejected (no row lost silently).")
def rows_accounted_for(context: dg.AssetCheckExecutionContext, pipeline: PipelineResource) -> dg.AssetCheckResult:
    bad = []
    for staged in staged_files(pipeline.home.staging, *_partition(context)):
        m = staged.manifest
        if m["rows_read"] != m["rows_loaded"] + m["rows_rejected"]:
            bad.append({k: m[k] for k in ("file_name", "rows_read", "rows_loaded", "rows_rejected")})
    return dg.AssetCheckResult(passed=not bad, metadata={"unbalanced_files": dg.MetadataValue.json(bad)})


def _partition(context) -> tuple[str, str]:
    """The run's department and month (a multi-partition run is tagged with each dimension)."""
    tags = context.run.tags
    try:
        return tags["dagster/partition/department"], tags["dagster/partition/month"]
    except KeyError as exc:
        raise dg.Failure("this check runs in a department × month partition run") from exc
