"""Warehouse assets: load a partition's staged rows into DuckDB (one writer at a time: pool `warehouse`)."""

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
    description="core.subject / core.credit_record with full history: the partition's contribution replaced "
    "atomically (one transaction), records deduplicated on their natural key.",
)
def warehouse_records(context: dg.AssetExecutionContext, pipeline: PipelineResource) -> dg.MaterializeResult:
    keys = context.partition_key.keys_by_dimension
    result = load_into_warehouse(pipeline.home, pipeline.registry, keys["department"], keys["month"])
    return dg.MaterializeResult(metadata={
        "dagster/row_count": result.rows_staged - result.batch_duplicates,
        "inserted_new": result.inserted_new,
        "inserted_corrected": result.inserted_corrected,
        "withdrawn": result.withdrawn,
        "unchanged": result.unchanged,
        "subjects_new": result.subjects_new,
        "duration_s": result.duration_s,
    })


def _read(pipeline: PipelineResource, fn):
    """Run a check's query read-only under the home's writer lock: an analyst's read-only session does not
    stop it, and no other pipeline process writes meanwhile."""
    with writer_lock(pipeline.home.root):
        conn = schema.connect(pipeline.home.warehouse, read_only=True)
        try:
            return fn(conn)
        finally:
            conn.close()


@dg.asset_check(asset=warehouse_records, blocking=True, pool=WAREHOUSE_POOL,
                description="No natural key has more than one current record version.")
def one_current_version_per_record(pipeline: PipelineResource) -> dg.AssetCheckResult:
    dupes = _read(pipeline, checks.duplicate_current_records)
    return dg.AssetCheckResult(passed=not dupes, metadata={
        "duplicated_versions": len(dupes), "where": dg.MetadataValue.json(dupes[:20])})


@dg.asset_check(asset=warehouse_records, blocking=True, pool=WAREHOUSE_POOL,
                description="Every subject id is a valid USCC, citizen ID, or a marked legacy/other-document key.")
def subject_ids_valid(pipeline: PipelineResource) -> dg.AssetCheckResult:
    bad = _read(pipeline, checks.invalid_subject_ids)
    return dg.AssetCheckResult(passed=not bad, metadata={"invalid": len(bad)})


@dg.asset_check(asset=warehouse_records, blocking=True, pool=WAREHOUSE_POOL,
                description="The warehouse agrees with the intake manifests: loaded rows = current records per file.")
def manifests_agree(context: dg.AssetCheckExecutionContext, pipeline: PipelineResource) -> dg.AssetCheckResult:
    department, month = _partition(context)
    bad = _read(pipeline, lambda conn: checks.unbalanced_submissions(conn, department, month))
    return dg.AssetCheckResult(passed=not bad, metadata={"unbalanced": dg.MetadataValue.json(bad)})
