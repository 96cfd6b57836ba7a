"""Intake assets: a department's files for a month → staged rows, rejections and reports."""

import dagster as dg

from ..acceptance import judge
from ..arrival import SEEN_TAG, parse
from ..config import max_reject_rate
from ..pipeline import InboxFolder, intake_partition, scan_inbox
from ..warehouse.staged import staged_files
from .partitions import department_month
from .resources import PipelineResource


@dg.asset(
    partitions_def=department_month,
    group_name="intake",
    kinds={"excel", "parquet"},
    description="报送文件校验：某部门某月报送的文件按数据规范逐行校验，合格行暂存为 Parquet，每条退回行连同原因留存，"
    "校验报告写入 outbox/。 | A department's submitted files for a month, validated against their data contracts: "
    "valid rows staged as Parquet, every rejected row kept with its reasons, an annotated report in outbox/.",
)
def staged_submissions(context: dg.AssetExecutionContext, pipeline: PipelineResource) -> dg.MaterializeResult:
    keys = context.partition_key.keys_by_dimension
    metadata = stage(context, pipeline, keys["department"], keys["month"])
    return dg.MaterializeResult(metadata=metadata)


def stage(context, pipeline: PipelineResource, department: str, month: str) -> dict:
    """Intake of the partition's inbox files; the staged partition's metadata (shared with defs/batch.py)."""
    folders = [f for f in scan_inbox(pipeline.home, pipeline.registry)
               if f.department == department and f.month == month]
    # An emptied folder still runs: its staged files go, and the warehouse load withdraws their records.
    folders = folders or [InboxFolder(department, department, month, ())]
    seen = parse(context.run.tags.get(SEEN_TAG))
    for folder in folders:
        for result in intake_partition(pipeline.home, pipeline.registry, folder, seen=seen):
            context.log.info("%s: %s", result.manifest["file_name"], result.status)
    manifests = [s.manifest for s in staged_files(pipeline.home.staging, department, month)]
    rows = [{k: m[k] for k in ("file_name", "kind", "status", "rows_read", "rows_loaded", "rows_rejected")}
            for m in manifests]
    return {
        "files": len(manifests),
        "rows_read": sum(m["rows_read"] for m in manifests),
        "rows_loaded": sum(m["rows_loaded"] for m in manifests),
        "rows_rejected": sum(m["rows_rejected"] for m in manifests),
        "dagster/row_count": sum(m["rows_loaded"] for m in manifests),
        "preview": dg.MetadataValue.md(_table(rows)),
        "reports": dg.MetadataValue.json([m.get("report_path") for m in manifests]),
    }


def _table(rows: list[dict]) -> str:
    if not rows:
        return "_no files_"
    head = "| " + " | ".join(rows[0]) + " |\n|" + "---|" * len(rows[0]) + "\n"
    return head + "\n".join("| " + " | ".join(str(v) for v in r.values()) + " |" for r in rows)


@dg.asset_check(asset=staged_submissions, blocking=True,
                description="行数守恒：每个文件读取行数 = 入库行数 + 退回行数，没有悄悄丢失的行。 | Every file: rows read = "
                            "rows loaded + rows rejected (no row lost silently).")
def rows_accounted_for(context: dg.AssetCheckExecutionContext, pipeline: PipelineResource) -> dg.AssetCheckResult:
    return rows_balance(pipeline, *_partition(context))


def rows_balance(pipeline: PipelineResource, department: str, month: str) -> dg.AssetCheckResult:
    bad = []
    for staged in staged_files(pipeline.home.staging, department, month):
        m = staged.manifest
        if m["rows_read"] != m["rows_loaded"] + m["rows_rejected"]:
            bad.append({k: m[k] for k in ("file_name", "rows_read", "rows_loaded", "rows_rejected")})
    return dg.AssetCheckResult(passed=not bad, metadata={"unbalanced_files": dg.MetadataValue.json(bad)})


@dg.asset_check(asset=staged_submissions, blocking=False,
                description="报送被接收：读取了数据却一行未入库，或退回比例超过 BS_CREDIT_MAX_REJECT_RATE（默认 0.5）时判为失败"
                            "（严重级别 ERROR），元数据给出行数和校验报告路径。不阻断入库：退回情况仍需记入数据仓库。 | "
                            "Fails (ERROR) when rows were read and none loaded, or the reject rate exceeds the threshold; "
                            "not blocking, so the warehouse still records the rejected submission.")
def submission_accepted(context: dg.AssetCheckExecutionContext, pipeline: PipelineResource) -> dg.AssetCheckResult:
    return acceptance(pipeline, *_partition(context))


def acceptance(pipeline: PipelineResource, department: str, month: str) -> dg.AssetCheckResult:
    manifests = [s.manifest for s in staged_files(pipeline.home.staging, department, month)]
    limit = max_reject_rate()
    verdict = judge(manifests, limit)
    return dg.AssetCheckResult(
        passed=verdict.passed, severity=dg.AssetCheckSeverity.ERROR, description=verdict.reason,
        metadata={"files": verdict.files, "rows_read": verdict.rows_read, "rows_loaded": verdict.rows_loaded,
                  "rows_rejected": verdict.rows_rejected, "files_rejected_whole": verdict.files_rejected_whole,
                  "reject_rate": dg.MetadataValue.float(verdict.reject_rate) if verdict.reject_rate is not None
                  else dg.MetadataValue.text("-"),
                  "max_reject_rate": limit,
                  "reports": dg.MetadataValue.json([m.get("report_path") for m in manifests])})


def _partition(context) -> tuple[str, str]:
    """The run's department and month (a multi-partition run is tagged with each dimension)."""
    tags = context.run.tags
    try:
        return tags["dagster/partition/department"], tags["dagster/partition/month"]
    except KeyError as exc:
        raise dg.Failure("this check runs in a department × month partition run") from exc
