"""Warehouse assets: load a partition's staged rows into DuckDB (one writer at a time: pool `warehouse`).

Only the step that writes holds the pool; its checks read the partition's rows only, outside the pool (the OS
writer lock orders them with writers, for the seconds a read takes)."""

import dagster as dg

from ..locking import writer_lock
from ..pipeline import load_into_warehouse
from ..warehouse import checks, schema
from .intake import _partition, staged_submissions
from .partitions import department_month
from .resources import PipelineResource

WAREHOUSE_POOL = "warehouse"


@dg.asset(
    partitions_def=department_month,
    deps=[staged_submissions],
    group_name="warehouse",
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
    description="数据仓库入库：以一个事务整体替换该部门该月在 core.subject / core.credit_record 中的数据（保留全部历史版本），"
    "按自然键去重。 | The partition's contribution replaced atomically (one transaction), full history, records "
    "deduplicated on their natural key.",
)
def warehouse_records(context: dg.AssetExecutionContext, pipeline: PipelineResource) -> dg.MaterializeResult:
    keys = context.partition_key.keys_by_dimension
    return dg.MaterializeResult(metadata=load(pipeline, keys["department"], keys["month"]))


def load(pipeline: PipelineResource, department: str, month: str) -> dict:
    """The partition's load (one transaction); its metadata (shared with defs/batch.py)."""
    result = load_into_warehouse(pipeline.home, pipeline.registry, department, month)
    return {
        "dagster/row_count": result.rows_staged - result.batch_duplicates,
        "inserted_new": result.inserted_new,
        "inserted_corrected": result.inserted_corrected,
        "withdrawn": result.withdrawn,
        "unchanged": result.unchanged,
        "subjects_new": result.subjects_new,
        "duration_s": result.duration_s,
    }


def _read(pipeline: PipelineResource, fn):
    """Run a check's query read-only under the home's writer lock: an analyst's read-only session does not
    stop it, and no other pipeline process writes meanwhile."""
    with writer_lock(pipeline.home.root):
        conn = schema.connect(pipeline.home.warehouse, read_only=True)
        try:
            return fn(conn)
        finally:
            conn.close()


@dg.asset_check(asset=warehouse_records, blocking=True,
                description="记录唯一：本分区的每条记录（自然键）只有一个现行版本。 | No record of the partition has more "
                            "than one current version.")
def one_current_version_per_record(context: dg.AssetCheckExecutionContext,
                                   pipeline: PipelineResource) -> dg.AssetCheckResult:
    return current_versions(pipeline, *_partition(context))


def current_versions(pipeline: PipelineResource, department: str, month: str) -> dg.AssetCheckResult:
    dupes = _read(pipeline, lambda conn: checks.duplicate_current_records(conn, department, month))
    return dg.AssetCheckResult(passed=not dupes, metadata={
        "duplicated_versions": len(dupes), "where": dg.MetadataValue.json(dupes[:20])})


@dg.asset_check(asset=warehouse_records, blocking=True,
                description="主体标识有效：本分区记录的主体标识均为有效的统一社会信用代码、身份证号，或已标记的历史/其他证件编码。 | "
                            "Every subject id of the partition's records is a valid USCC, citizen ID, or a marked "
                            "legacy/other-document key.")
def subject_ids_valid(context: dg.AssetCheckExecutionContext, pipeline: PipelineResource) -> dg.AssetCheckResult:
    return subject_ids(pipeline, *_partition(context))


def subject_ids(pipeline: PipelineResource, department: str, month: str) -> dg.AssetCheckResult:
    bad = _read(pipeline, lambda conn: checks.invalid_subject_ids(conn, department, month))
    return dg.AssetCheckResult(passed=not bad, metadata={"invalid": len(bad)})


@dg.asset_check(asset=warehouse_records, blocking=True,
                description="与校验清单一致：数据仓库中每个文件的现行记录数 = 清单中的入库行数。 | The warehouse agrees with "
                            "the intake manifests: loaded rows = current records per file.")
def manifests_agree(context: dg.AssetCheckExecutionContext, pipeline: PipelineResource) -> dg.AssetCheckResult:
    return manifest_balance(pipeline, *_partition(context))


def manifest_balance(pipeline: PipelineResource, department: str, month: str) -> dg.AssetCheckResult:
    bad = _read(pipeline, lambda conn: checks.unbalanced_submissions(conn, department, month))
    return dg.AssetCheckResult(passed=not bad, metadata={"unbalanced": dg.MetadataValue.json(bad)})
