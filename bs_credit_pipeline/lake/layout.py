"""Where the Parquet lake is and what it holds: one folder per table, Hive-style department=/month= partitions.

The lake is the storage layer both engines share: in the embedded deployment DuckDB's warehouse stays the source of
truth and exports to it (lake/export.py); Spark reads it (engines/spark.py) and writes its marts under mart/.
docs/LAKE.md describes the layout and the schema of every table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..config import ConfigError
from ..paths import Home

LAKE_VAR = "BS_CREDIT_LAKE"
PARTITION_COLUMNS = ("department", "month")


@dataclass(frozen=True)
class Table:
    """One lake table: its folder (relative to the lake root), the warehouse query that produces its rows, and
    whether it is partitioned by department and month (the query then yields those two columns)."""

    folder: str
    query: str
    partitioned: bool = True


# A repair's or objection's partition is its submission's (submission_id is department|month|sha256); its
# department column is that same submitting department (null only on rows loaded before migration 003).
_MONTH = "split_part(submission_id, '|', 2)"
_DEPARTMENT = "coalesce(department, split_part(submission_id, '|', 1))"

# Tables the list SQL reads (two-part names as in the warehouse). core.credit_record holds the current record
# versions only (valid_to IS NULL: what every list reads); payload stays a JSON text for the list SQL, the typed
# contract columns are in records/<kind> (export.record_tables).
TABLES = {
    "core.credit_record": Table(
        "core/credit_record",
        "SELECT * EXCLUDE (payload), CAST(payload AS VARCHAR) AS payload FROM core.credit_record"
        " WHERE valid_to IS NULL"),
    "core.subject": Table("core/subject", "SELECT * FROM core.subject", partitioned=False),
    "core.repair": Table("core/repair", f"SELECT * REPLACE ({_DEPARTMENT} AS department), {_MONTH} AS month"
                                        " FROM core.repair"),
    "core.objection": Table("core/objection", f"SELECT * REPLACE ({_DEPARTMENT} AS department), {_MONTH} AS month"
                                              " FROM core.objection"),
    "ops.submission": Table(
        "ops/submission",
        "SELECT * EXCLUDE (error_counts, dropped_columns, hidden_sheets), CAST(error_counts AS VARCHAR) AS error_counts,"
        " CAST(dropped_columns AS VARCHAR) AS dropped_columns, CAST(hidden_sheets AS VARCHAR) AS hidden_sheets"
        " FROM ops.submission"),
    "ops.rejected_row": Table("ops/rejected_row", "SELECT * FROM ops.rejected_row"),
}
def lake_root(home: Home) -> Path:
    """BS_CREDIT_LAKE (a local or mounted folder, optionally written file:///...), else <home>/lake."""
    text = os.environ.get(LAKE_VAR, "").strip()
    if not text:
        return home.root / "lake"
    if text.startswith("file://"):
        text = text.removeprefix("file://")
    elif "://" in text:
        raise ConfigError(
            f"环境变量 {LAKE_VAR} 应为本机或挂载的文件夹路径，现为“{text}”（对象存储地址由集群部署的 Spark 配置）。",
            f"{LAKE_VAR} must be a local or mounted folder, got {text!r} (object storage is configured on the"
            " cluster's Spark, docs/LAKE.md)")
    path = Path(text)
    if not path.is_absolute():
        raise ConfigError(f"环境变量 {LAKE_VAR} 应为绝对路径，现为“{text}”。",
                          f"{LAKE_VAR} must be an absolute path, got {text!r}")
    return path


def table_path(root: Path, name: str) -> Path:
    """The folder of a lake table: core.subject -> <root>/core/subject; mart.x -> <root>/mart/x."""
    return root / (TABLES[name].folder if name in TABLES else name.replace(".", "/"))


def partition_path(folder: Path, department: str, month: str) -> Path:
    return folder / f"department={department}" / f"month={month}"
