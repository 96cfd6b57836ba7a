"""Many department × month partitions in one run: a backfill, a year's archive, every folder not loaded yet.

`intake_batch_job` fans out over the partitions (dynamic outputs): each partition's intake is a step of its own,
and the multiprocess executor runs them in separate processes, at most `max_concurrent` (2 on this 2-core machine)
at a time. Each partition's load follows its intake as soon as it ends and is in pool `warehouse` (limit 1): the
warehouse still has one writer at a time, across this run and every other. The steps record the same asset
materialisations and check results, per partition, as `intake_job`; a blocking check that fails stops that
partition (its load, or the run's success), not the others.
"""

import dagster as dg

from ..config import ConfigError
from ..loaded import to_load
from ..paths import MONTH_RE
from ..pipeline import scan_inbox
from .executors import executor
from .intake import acceptance, rows_accounted_for, rows_balance, stage, staged_submissions, submission_accepted
from .partitions import partition_key
from .resources import PipelineResource
from .warehouse import (WAREHOUSE_POOL, current_versions, load, manifest_balance, manifests_agree,
                        one_current_version_per_record, subject_ids, subject_ids_valid, warehouse_records)

MAX_CONCURRENT = 2  # steps at once; each a process of ~200-300 MB (issue 18's memory budget for this machine)
INTAKE_CHECKS = [(rows_accounted_for, rows_balance), (submission_accepted, acceptance)]
LOAD_CHECKS = [(one_current_version_per_record, current_versions), (subject_ids_valid, subject_ids),
               (manifests_agree, manifest_balance)]


class BatchConfig(dg.Config):
    """Partitions as "department|YYYY-MM" (department code); empty: every inbox folder the warehouse has not
    loaded as it is now (what `bs-credit run` would load)."""

    partitions: list[str] = []


def chosen_partitions(pipeline: PipelineResource, wanted: list[str]) -> list[tuple[str, str]]:
    """The (department, month) pairs to run; a malformed or unknown partition is a ConfigError, before any work."""
    if not wanted:
        folders = scan_inbox(pipeline.home, pipeline.registry)
        return [(department, month) for department, month, _ in to_load(pipeline.home, folders)]
    out = []
    for text in wanted:
        department, _, month = text.partition("|")
        if department not in pipeline.registry.departments or not MONTH_RE.match(month):
            raise ConfigError(f"分区“{text}”无效：应为“部门代码|年-月”，如 scjgj|2026-10。",
                              f"partition {text!r} is not 'department code|YYYY-MM' with a known department")
        out.append((department, month))
    return list(dict.fromkeys(out))


@dg.op(out=dg.DynamicOut(str), description="待运行的分区：配置给出的，或收件箱中尚未按现状入库的全部分区。 | The "
       "partitions to run: those configured, or every inbox folder not loaded as it is now.")
def batch_partitions(context: dg.OpExecutionContext, config: BatchConfig, pipeline: PipelineResource):
    try:
        chosen = chosen_partitions(pipeline, config.partitions)
    except ConfigError as exc:
        raise dg.Failure(description=exc.line(), allow_retries=False) from None
    context.log.info("%d partitions: %s", len(chosen), ", ".join(f"{d}|{m}" for d, m in chosen))
    for department, month in chosen:
        yield dg.DynamicOutput(f"{department}|{month}", mapping_key=f"{department}_{month.replace('-', '_')}")


def _record_checks(context: dg.OpExecutionContext, pipeline: PipelineResource, checks, department: str,
                   month: str) -> list[str]:
    """Run the asset checks of one partition, record their results, return the names of failed blocking ones."""
    failed = []
    for check_def, fn in checks:
        spec = next(iter(check_def.check_specs))
        result = fn(pipeline, department, month)
        context.log_event(dg.AssetCheckEvaluation(
            asset_key=spec.asset_key, check_name=spec.name, passed=result.passed, metadata=result.metadata,
            severity=result.severity, description=result.description, blocking=spec.blocking,
            partition=str(partition_key(department, month))))
        if spec.blocking and not result.passed:
            failed.append(spec.name)
    return failed


@dg.op(description="一个部门一个月的报送文件校验（每个分区一个进程，可并行）。 | One partition's intake (a process each, in "
       "parallel).")
def intake_partition_step(context: dg.OpExecutionContext, pipeline: PipelineResource, partition: str) -> str:
    department, month = partition.split("|")
    metadata = stage(context, pipeline, department, month)
    context.log_event(dg.AssetMaterialization(staged_submissions.key, partition=str(partition_key(department, month)),
                                              metadata=metadata))
    failed = _record_checks(context, pipeline, INTAKE_CHECKS, department, month)
    if failed:
        raise dg.Failure(description=f"{partition}: blocking check failed: {', '.join(failed)}; not loaded")
    return partition


@dg.op(pool=WAREHOUSE_POOL, description="该分区入库（资源池 warehouse，一次只有一个写入者）。 | The partition's load (pool "
       "`warehouse`: one writer at a time).")
def load_partition_step(context: dg.OpExecutionContext, pipeline: PipelineResource, partition: str) -> None:
    department, month = partition.split("|")
    metadata = load(pipeline, department, month)
    context.log_event(dg.AssetMaterialization(warehouse_records.key, partition=str(partition_key(department, month)),
                                              metadata=metadata))
    failed = _record_checks(context, pipeline, LOAD_CHECKS, department, month)
    if failed:
        raise dg.Failure(description=f"{partition}: blocking check failed: {', '.join(failed)}")


@dg.job(executor_def=executor(dg.multiprocess_executor.configured({"max_concurrent": MAX_CONCURRENT})),
        description="批量报送入库：多个部门×月份分区的校验并行运行（每个一个进程，最多 2 个），入库逐个进行。 | Intake of many "
        "department × month partitions in parallel (a process each, at most 2), loads one at a time.")
def intake_batch_job():
    batch_partitions().map(intake_partition_step).map(load_partition_step)
