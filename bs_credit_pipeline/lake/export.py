"""Export the warehouse (the embedded deployment's source of truth) to the Parquet lake.

Every partitioned table is written with DuckDB's COPY ... PARTITION_BY (department, month). A full export replaces
each table's folder; an export of some partitions replaces exactly those partition folders and leaves the others as
they are (what Spark's dynamic partition overwrite does): a resubmission replaces its department-month, and a
partition left with no rows disappears. Each table folder holds `_schema.json` (column -> DuckDB type; Spark and
Hive readers skip files starting with `_`), so a reader can declare the table even when it has no rows yet.
Replacing is a rename of finished folders (lake/files.py): on a local lake, HDFS or ABFS a reader sees the old or
the new partition, never a half-written one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path

from ..contracts import Registry
from ..lists.sql import lit
from ..warehouse.staged import StagedFile
from .files import lake_files
from .layout import PARTITION_COLUMNS, TABLES, partition_path

log = logging.getLogger(__name__)
SCHEMA_FILE = "_schema.json"
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
# contract column type -> the lake's column type (payload values are JSON text, numbers or null)
LAKE_TYPES = {"date": "DATE", "decimal": "DOUBLE", "integer": "BIGINT"}
# columns every records/<kind> table starts with (a contract column of the same name is not repeated)
RECORD_KEYS = ("record_id", "version_id", "version", "subject_id", "subject_type", "record_date", "submission_id",
               "valid_from", "department", "month")


def record_tables(registry: Registry) -> dict[str, str]:
    """records/<kind> folder -> query: the kind's current record versions with every contract column (domain
    columns included) as a typed column read out of the JSON payload."""
    out = {}
    for kind, contract in sorted(registry.contracts.items()):
        columns = {}
        for col in [*contract.columns, *(c for d in contract.domains.values() for c in d.columns)]:
            if col.name not in RECORD_KEYS:
                columns.setdefault(col.name, LAKE_TYPES.get(col.type, "VARCHAR"))
        typed = "".join(f", TRY_CAST(json_extract_string(payload, {lit('$.' + name)}) AS {typ}) AS \"{name}\""
                        for name, typ in columns.items())
        out[f"records/{kind}"] = (f"SELECT {', '.join(RECORD_KEYS)}{typed} FROM core.credit_record"
                                  f" WHERE valid_to IS NULL AND kind = {lit(kind)}")
    return out


def staged_tables(staging: Path | None) -> dict[str, str]:
    """staged/<kind> folder -> query over the valid-rows Parquet files intake staged for that kind (every
    department and month; the partition is the staging folder's)."""
    by_kind: dict[str, list[str]] = {}
    if staging is not None and staging.is_dir():
        for manifest in sorted(staging.glob("*/*/*.manifest.json")):
            staged = StagedFile.from_manifest(manifest)
            if staged.rows is not None and staged.kind:
                by_kind.setdefault(staged.kind, []).append(str(staged.rows))
    out = {}
    for kind, files in sorted(by_kind.items()):
        listed = ", ".join(lit(f) for f in files)
        out[f"staged/{kind}"] = (
            "SELECT * EXCLUDE (filename), regexp_extract(filename, '([^/]+)/([^/]+)/[^/]+$', 1) AS department,"
            " regexp_extract(filename, '([^/]+)/([^/]+)/[^/]+$', 2) AS month"
            f" FROM read_parquet([{listed}], union_by_name = true, filename = true)")
    return out


def written_tables(conn) -> dict[str, str]:
    """mart/<table> and internal/<table> -> query: the tables the list steps write and keep from run to run (list
    history, the entry-key salt). Exported to seed the lake when Spark takes over from DuckDB (same history, same
    keys); JSON columns as text."""
    out = {}
    rows = conn.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN ('mart', 'internal')"
                        " AND database_name = current_database() ORDER BY 1, 2").fetchall()
    for schema, table in rows:
        cols = conn.execute(f"DESCRIBE {schema}.{table}").fetchall()
        select = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' if t == "JSON" else f'"{c}"' for c, t, *_ in cols)
        out[f"{schema}/{table}"] = f"SELECT {select} FROM {schema}.{table}"
    return out


def lake_queries(registry: Registry, staging: Path | None, conn=None) -> dict[str, tuple[str, bool]]:
    """Every lake folder -> (query, partitioned); with `conn`, the mart and internal tables too."""
    out = {t.folder: (t.query, t.partitioned) for t in TABLES.values()}
    if conn is not None:
        out.update({folder: (q, False) for folder, q in written_tables(conn).items()})
    out.update({folder: (q, True) for folder, q in record_tables(registry).items()})
    out.update({folder: (q, True) for folder, q in staged_tables(staging).items()})
    return out


def _schema(conn, query: str) -> dict[str, str]:
    return {name: str(typ) for name, typ, *_ in conn.execute(f"DESCRIBE {query}").fetchall()}


def export(conn, root: Path | str, registry: Registry, *, staging: Path | None = None,
           partitions: Iterable[tuple[str, str]] | None = None, seed_marts: bool = False,
           spark=None) -> dict[str, int]:
    """Write the lake at `root` from the warehouse connection `conn`; returns rows written per folder.

    partitions=None: every table whole. Else only those (department, month) partitions of the partitioned tables
    are replaced (and unpartitioned tables rewritten, as they are small: core.subject). seed_marts: also the
    warehouse's mart and internal tables (written_tables). A URI root (object storage) is written through `spark`'s
    Hadoop FileSystem (lake/files.py): DuckDB writes each table to a local temporary folder, which is uploaded."""
    wanted = None if partitions is None else sorted(set(partitions))
    files = lake_files(root, spark)
    written = {}
    with files.scratch() as scratch:
        for folder, (query, partitioned) in lake_queries(registry, staging, conn if seed_marts else None).items():
            new = scratch.local / folder
            new.mkdir(parents=True)
            schema = json.dumps(_schema(conn, query), ensure_ascii=False, indent=1)
            select = query
            if not partitioned:
                conn.execute(f"COPY ({select}) TO {lit(str(new / 'data_0.parquet'))} (FORMAT parquet)")
            else:  # a missing partition value is Hive's null partition (Spark reads NULL)
                fixed = ", ".join(f"coalesce(nullif({c}, ''), {lit(NULL_PARTITION)}) AS {c}" for c in PARTITION_COLUMNS)
                select = f"SELECT * REPLACE ({fixed}) FROM ({query})"
                if wanted is not None:
                    keys = ", ".join(f"({lit(d)}, {lit(m)})" for d, m in wanted) or "(NULL, NULL)"
                    select = f"SELECT * FROM ({select}) WHERE (department, month) IN ({keys})"
                conn.execute(f"COPY ({select}) TO {lit(str(new))} (FORMAT parquet, PARTITION_BY"
                             f" ({', '.join(PARTITION_COLUMNS)}), OVERWRITE_OR_IGNORE)")
            written[folder] = conn.execute(f"SELECT count(*) FROM ({select})").fetchone()[0]
            (new / SCHEMA_FILE).write_text(schema, encoding="utf-8")
            files.upload(scratch, folder)
            staged = f"{scratch.rel}/{folder}"
            if wanted is None or not partitioned or not files.exists(folder):  # whole table (or its first partitions)
                files.swap(staged, folder)
                continue
            for department, month in wanted:
                part = partition_path(folder, department, month)
                files.swap(partition_path(staged, department, month), part)
                parent = part.rsplit("/", 1)[0]
                if files.exists(parent) and not files.folders(parent):
                    files.delete(parent)
            files.write_text(f"{folder}/{SCHEMA_FILE}", schema)
    log.info("lake export: %d tables, %d rows", len(written), sum(written.values()))
    return written
