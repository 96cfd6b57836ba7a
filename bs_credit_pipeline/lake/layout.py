"""Where the Parquet lake is and what it holds: one folder per table, Hive-style department=/month= partitions.

The lake is the storage layer both engines share: in the embedded deployment DuckDB's warehouse stays the source of
truth and exports to it (lake/export.py); Spark reads it (engines/spark.py) and writes its marts under mart/.
docs/LAKE.md describes the layout and the schema of every table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..config import SPARK_MASTER_VAR, ConfigError, engine, spark_master
from ..paths import Home

LAKE_VAR = "BS_CREDIT_LAKE"
PARTITION_COLUMNS = ("department", "month")


# What a partition's fingerprint hashes (lake/export.py): each row of the table's query `q` whole, or its record
# version: a current record version's exported columns never change after its insert (warehouse/load.py closes a
# version, which takes it out of the current set, and inserts a new one), and hashing the id skips reading payloads.
WHOLE_ROW, RECORD_VERSION = "hash(q)", "hash(q.version_id)"


@dataclass(frozen=True)
class Table:
    """One lake table: its folder (relative to the lake root), the warehouse query that produces its rows, whether
    it is partitioned by department and month (the query then yields those two columns), and what its
    partitions' fingerprints hash."""

    folder: str
    query: str
    partitioned: bool = True
    fingerprint: str = WHOLE_ROW


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
        " WHERE valid_to IS NULL", fingerprint=RECORD_VERSION),
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
# URI schemes of the object stores and distributed file systems Hadoop's FileSystem reaches (engines/hadoop.py)
OBJECT_STORE_SCHEMES = ("s3a", "hdfs", "abfs", "abfss", "gs", "viewfs", "wasbs")


def lake_root(home: Home) -> Path | str:
    """BS_CREDIT_LAKE, else <home>/lake: a local or mounted folder (absolute path, or file:///...) as a Path, or
    an object-store URI (OBJECT_STORE_SCHEMES) as a string. An object-store lake needs the Spark engine (DuckDB
    writes and reads local files; Spark reaches the store through Hadoop's FileSystem in its JVM), and so a classic
    Spark session: not a Spark Connect master (sc://), whose client has no JVM."""
    text = os.environ.get(LAKE_VAR, "").strip()
    if not text:
        return home.root / "lake"
    scheme, sep, rest = text.partition("://")
    if sep and scheme.lower() != "file":
        if scheme.lower() not in OBJECT_STORE_SCHEMES or not rest.strip("/"):
            raise ConfigError(
                f"环境变量 {LAKE_VAR} 的地址“{text}”无效：应为本机或挂载的文件夹（绝对路径），或对象存储地址"
                f"（{'、'.join(s + '://' for s in OBJECT_STORE_SCHEMES)}，如 s3a://桶/前缀）。",
                f"{LAKE_VAR} {text!r} is neither an absolute folder nor an object-store URI"
                f" ({', '.join(s + '://' for s in OBJECT_STORE_SCHEMES)}, e.g. s3a://bucket/prefix)")
        if engine() != "spark":
            raise ConfigError(
                f"对象存储上的数据湖（{LAKE_VAR}={text}）只能配合 Spark 引擎使用：请设置 BS_CREDIT_ENGINE=spark，"
                f"或把 {LAKE_VAR} 改为本机或挂载的文件夹。",
                f"an object-store lake ({LAKE_VAR}={text}) needs BS_CREDIT_ENGINE=spark (DuckDB writes the lake"
                " as local files); set the engine or make the lake a local or mounted folder")
        if spark_master().startswith("sc://"):
            raise ConfigError(
                f"对象存储上的数据湖（{LAKE_VAR}={text}）不能使用 Spark Connect（{SPARK_MASTER_VAR}={spark_master()}）："
                "湖的文件操作经由 Spark 驱动程序 JVM 中的 Hadoop 文件系统完成。请改用 k8s://、yarn 或 spark:// 主节点。",
                f"an object-store lake ({LAKE_VAR}={text}) cannot be used with Spark Connect ({SPARK_MASTER_VAR}="
                f"{spark_master()}): the lake's file operations go through Hadoop's FileSystem in the Spark driver's"
                " JVM; use a k8s://, yarn or spark:// master")
        return text.rstrip("/")
    path = Path(rest if sep else text)
    if not path.is_absolute():
        raise ConfigError(f"环境变量 {LAKE_VAR} 应为绝对路径，现为“{text}”。",
                          f"{LAKE_VAR} must be an absolute path, got {text!r}")
    return path


def partition_path(folder: str, department: str, month: str) -> str:
    """A partition's folder, relative to the lake root like `folder`."""
    return f"{folder}/department={department}/month={month}"
