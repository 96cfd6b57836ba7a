"""Nightly assets: lists as of a date, public exports, the analysts' pseudonymised snapshot."""

import datetime as dt

import dagster as dg

from .. import publish
from ..parsing import today_in_shanghai
from ..config import engine
from ..pipeline import build_lists, publish_lists, pseudonym_key, snapshot
from ..warehouse import checks
from .resources import PipelineResource
from .warehouse import WAREHOUSE_POOL, _read, warehouse_records

AS_OF_TAG = "bs_credit/as_of"


def as_of(context) -> dt.date:
    """The run's as-of date (tag set by the schedule or `bs-credit run --as-of`), else today in Asia/Shanghai."""
    tag = context.run.tags.get(AS_OF_TAG)
    return dt.date.fromisoformat(tag) if tag else today_in_shanghai()


@dg.asset(deps=[warehouse_records], group_name="lists", kinds={"duckdb"}, pool=WAREHOUSE_POOL,
          description="信用名单计算：按公示期规则计算记录状态，生成黑名单及惩戒措施、重点关注名单、红名单、绿色通道、诚信积分、"
          "政务诚信及预警、部门报送评价、名单变化（截至计算日期）。 | mart.*: record status under the display-period rules, black list and punishment measures, "
          "watch list, red list, green channel, integrity points, government integrity and warnings, department "
          "scorecard, list changes — a pure function of warehouse, rules and as-of date.")
def credit_lists(context: dg.AssetExecutionContext, pipeline: PipelineResource) -> dg.MaterializeResult:
    day = as_of(context)
    if engine() == "spark":  # the lists on Spark SQL over the lake (docs/LAKE.md)
        from ..engines.nightly import build_lists_on_spark
        from .resources import spark_resource

        with spark_resource(pipeline.home.root).process_config_and_initialize_cm() as pyspark:
            counts = build_lists_on_spark(pipeline.home, day, pyspark.spark_session)
    else:
        counts = build_lists(pipeline.home, day)
    return dg.MaterializeResult(metadata={"as_of": day.isoformat(), **{f"rows/{k}": v for k, v in counts.items()},
                                          "dagster/row_count": counts.get("black_list", 0)})


@dg.asset_check(asset=credit_lists, blocking=True,
                description="名单可解释：每条名单记录都带有原因和所依据的规则。 | Every list entry carries its reasons and its rule.")
def every_entry_explained(context: dg.AssetCheckExecutionContext, pipeline: PipelineResource) -> dg.AssetCheckResult:
    missing = _read(pipeline, lambda conn: checks.unexplained_list_entries(conn, as_of(context)))
    return dg.AssetCheckResult(passed=not missing, metadata={"unexplained": dg.MetadataValue.json(missing)})


@dg.asset_check(asset=credit_lists, blocking=False,
                description="重点关注原因已归类（警告）：看似属于重点监管类别却未归入任何类别的原因，由信用办在 "
                            "data_contracts/rules/lists.yaml 中归类。 | Causes that look like a key-supervision category but map to none (warning): the credit "
                            "office classifies them in data_contracts/rules/lists.yaml; mart.watch_unmapped lists them.")
def watch_causes_classified(context: dg.AssetCheckExecutionContext, pipeline: PipelineResource) -> dg.AssetCheckResult:
    unmapped = _read(pipeline, lambda conn: checks.unmapped_watch_causes(conn, as_of(context)))
    return dg.AssetCheckResult(passed=not unmapped, severity=dg.AssetCheckSeverity.WARN,
                               metadata={"unmapped_by_department_and_category": dg.MetadataValue.json(unmapped)})


@dg.asset(deps=[credit_lists], group_name="publish", kinds={"csv", "excel", "json"},
          description="公开发布：publish/<计算日期>/ 下为“信用保山”准备的脱敏名单、名单变化清单和省级交换文件。 | publish/<as-of>/: masked lists for 信用保山, the change list, the provincial exchange file.")
def public_exports(context: dg.AssetExecutionContext, pipeline: PipelineResource) -> dg.MaterializeResult:
    day = as_of(context)
    manifest = publish_lists(pipeline.home, day)
    return dg.MaterializeResult(metadata={"as_of": day.isoformat(),
                                          "files": dg.MetadataValue.json(manifest)})


@dg.asset_check(asset=public_exports, blocking=True, description="公开文件无明文身份证号。 | No raw citizen ID in any published file.")
def no_raw_ids_published(context: dg.AssetCheckExecutionContext, pipeline: PipelineResource) -> dg.AssetCheckResult:
    folder = pipeline.home.publish / as_of(context).isoformat()
    findings = publish.scan_for_raw_ids(sorted(p for p in folder.rglob("*") if p.is_file()))
    return dg.AssetCheckResult(passed=not findings, metadata={"findings": len(findings)})


@dg.asset(deps=[credit_lists], group_name="publish", kinds={"duckdb"},
          description="分析快照：自然人身份证号替换为带密钥的代号后的数据仓库副本，新建后原子替换，分析人员可保持打开。 | analytics.duckdb: the warehouse with natural-person IDs replaced by keyed tokens, "
          "rebuilt as a new file and swapped in atomically so analysts can keep it open.")
def analytics_snapshot(pipeline: PipelineResource) -> dg.MaterializeResult:
    info = snapshot(pipeline.home, pseudonym_key(pipeline.home))
    return dg.MaterializeResult(metadata={"path": str(pipeline.home.analytics), "build_id": info.build_id})


@dg.asset_check(asset=analytics_snapshot, blocking=True, description="分析快照无明文身份证号。 | No raw citizen ID in the analyst snapshot.")
def no_raw_ids_in_snapshot(pipeline: PipelineResource) -> dg.AssetCheckResult:
    findings = publish.scan_for_raw_ids([], db_path=pipeline.home.analytics)
    return dg.AssetCheckResult(passed=not findings, metadata={"findings": len(findings)})
