"""Export the warehouse (the embedded deployment's source of truth) to the Parquet lake, incrementally.

Every partitioned table is written with DuckDB's COPY ... PARTITION_BY (department, month). Each table folder holds
`_schema.json` (column -> DuckDB type; Spark and Hive readers skip files starting with `_`), so a reader can
declare the table even when it has no rows yet, and `_manifest.json`: a fingerprint of every partition's rows. An
export writes only the partitions whose fingerprint changed and removes those gone from the warehouse (what
Spark's dynamic partition overwrite does for the partitions it writes); a table without a usable manifest is
written whole. An export of some partitions looks only at those (a resubmission's department-month).
Replacing is a rename of finished folders (lake/files.py): on a local lake, HDFS or ABFS a reader sees the old or
the new partition, never a half-written one. docs/LAKE.md ("Incremental export") has the details.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path

from ..contracts import Registry
from ..lists.sql import lit
from ..warehouse.schema import current_version as schema_version
from ..warehouse.staged import StagedFile
from .files import lake_files
from .layout import PARTITION_COLUMNS, RECORD_VERSION, TABLES, Table, partition_path

log = logging.getLogger(__name__)
SCHEMA_FILE = "_schema.json"
MANIFEST_FILE = "_manifest.json"
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


def lake_queries(registry: Registry, staging: Path | None, conn=None) -> dict[str, Table]:
    """Every lake folder -> its Table; with `conn`, the mart and internal tables too."""
    out = {t.folder: t for t in TABLES.values()}
    if conn is not None:
        out.update({folder: Table(folder, q, partitioned=False) for folder, q in written_tables(conn).items()})
    out.update({folder: Table(folder, q, fingerprint=RECORD_VERSION) for folder, q in record_tables(registry).items()})
    out.update({folder: Table(folder, q) for folder, q in staged_tables(staging).items()})
    return out


def _schema(conn, query: str) -> str:
    """The text of a table folder's _schema.json: column -> DuckDB type of the query's columns."""
    columns = {name: str(typ) for name, typ, *_ in conn.execute(f"DESCRIBE {query}").fetchall()}
    return json.dumps(columns, ensure_ascii=False, indent=1)


def _partition_key(department: str, month: str) -> str:
    return partition_path("", department, month).lstrip("/")


def _keys(partitions: Iterable[str]) -> str:
    """A SQL list of (department, month) rows for the manifest keys `partitions`."""
    pairs = [tuple(part.partition("=")[2] for part in key.split("/")) for key in partitions]
    return ", ".join(f"({lit(d)}, {lit(m)})" for d, m in pairs) or "(NULL, NULL)"


def _fingerprints(conn, select: str, table: Table) -> dict[str, list]:
    """Manifest key -> [rows, fingerprint] of the rows `select` yields: per partition folder
    ("department=fy/month=2026-10"), or "" for an unpartitioned table. The fingerprint is the sum of the rows'
    hashes (order-free; duplicates do not cancel out, as with xor)."""
    fingerprint = f"CAST(coalesce(sum({table.fingerprint}), 0) AS VARCHAR)"
    if not table.partitioned:
        return {"": list(conn.execute(f"SELECT count(*), {fingerprint} FROM ({select}) q").fetchone())}
    rows = conn.execute(f"SELECT department, month, count(*), {fingerprint} FROM ({select}) q GROUP BY ALL").fetchall()
    return {_partition_key(d, m): [n, h] for d, m, n, h in rows}


def _manifest_header(conn, table: Table) -> dict:
    """What a manifest's fingerprints depend on besides the rows: its format, the fingerprint expression, DuckDB
    (its hash function) and the warehouse's migration level (a migration may rewrite rows in place)."""
    import duckdb

    return {"format": 1, "fingerprint": table.fingerprint, "duckdb": duckdb.__version__,
            "warehouse_version": schema_version(conn)}


def _previous(files, folder: str, header: dict, schema: str) -> dict[str, list | None] | None:
    """The partitions of the table's manifest, if the lake folder has one written with the same header and
    schema; else None."""
    manifest_file, schema_file = f"{folder}/{MANIFEST_FILE}", f"{folder}/{SCHEMA_FILE}"
    if not files.exists(manifest_file) or not files.exists(schema_file) or files.read_text(schema_file) != schema:
        return None
    try:
        manifest = json.loads(files.read_text(manifest_file))
    except ValueError:
        return None
    return manifest.get("partitions") if {k: manifest.get(k) for k in header} == header else None


def _manifest(header: dict, partitions: dict[str, list | None]) -> str:
    return json.dumps({**header, "partitions": dict(sorted(partitions.items()))}, indent=0)


def export(conn, root: Path | str, registry: Registry, *, staging: Path | None = None,
           partitions: Iterable[tuple[str, str]] | None = None, seed_marts: bool = False,
           spark=None) -> dict[str, int]:
    """Bring the lake at `root` up to date with the warehouse connection `conn`; returns rows written per folder.

    Incremental: each table folder's `_manifest.json` holds a fingerprint of every partition's rows (count and
    sum of row hashes, computed by DuckDB); only partitions whose fingerprint changed are written, partitions
    gone from the warehouse are removed, an unchanged table is not touched. A table without a usable manifest
    (first export; other schema, DuckDB or warehouse migration level) is written whole.
    partitions: only those (department, month) partitions are looked at (a resubmission's), the others are left
    as they are. seed_marts: also the warehouse's mart and internal tables (written_tables). A URI root (object
    storage) is written through `spark`'s Hadoop FileSystem (lake/files.py): DuckDB writes to a local temporary
    folder, which is uploaded."""
    scope = None if partitions is None else sorted({_partition_key(d, m) for d, m in partitions})
    files = lake_files(root, spark)
    written, counts = {}, {"written": 0, "unchanged": 0, "removed": 0}
    with files.scratch() as scratch:
        for folder, table in lake_queries(registry, staging, conn if seed_marts else None).items():
            schema = _schema(conn, table.query)
            header = _manifest_header(conn, table)
            select = table.query
            if table.partitioned:  # a missing partition value is Hive's null partition (Spark reads NULL)
                fixed = ", ".join(f"coalesce(nullif({c}, ''), {lit(NULL_PARTITION)}) AS {c}" for c in PARTITION_COLUMNS)
                select = f"SELECT * REPLACE ({fixed}) FROM ({table.query})"
                if scope is not None:
                    select = f"SELECT * FROM ({select}) WHERE (department, month) IN ({_keys(scope)})"
            now = _fingerprints(conn, select, table)
            before = _previous(files, folder, header, schema)
            whole = not table.partitioned or not files.exists(folder) or (before is None and scope is None)
            if whole:  # the folder replaced in one swap, its manifest inside
                changed, removed = sorted(now), []
                if before is not None and before.get("") == now.get(""):
                    counts["unchanged"] += 1
                    written[folder] = 0
                    continue
            elif before is None:  # a partition export into a table without a usable manifest: none kept
                changed = sorted(now)
                removed = [k for k in scope if k not in now and files.exists(f"{folder}/{k}")]
                files.delete(f"{folder}/{MANIFEST_FILE}")  # (one of another schema would seem usable after)
            else:
                changed = sorted(k for k, v in now.items() if before.get(k) != v)
                removed = sorted(k for k in before if k not in now and (scope is None or k in scope))
                counts["unchanged"] += len(now) - len(changed)
                if not changed and not removed:
                    written[folder] = 0
                    continue
                # changes to come marked first: after a crash from here on, they are redone
                files.write_text(f"{folder}/{MANIFEST_FILE}",
                                 _manifest(header, {**before, **dict.fromkeys([*changed, *removed])}))
            written[folder] = sum(now[k][0] for k in changed)
            new = scratch.local / folder
            new.mkdir(parents=True)
            if not table.partitioned:
                conn.execute(f"COPY ({select}) TO {lit(str(new / 'data_0.parquet'))} (FORMAT parquet)")
            elif changed:
                if not whole:
                    select = f"SELECT * FROM ({select}) WHERE (department, month) IN ({_keys(changed)})"
                conn.execute(f"COPY ({select}) TO {lit(str(new))} (FORMAT parquet, PARTITION_BY"
                             f" ({', '.join(PARTITION_COLUMNS)}), OVERWRITE_OR_IGNORE)")
            (new / SCHEMA_FILE).write_text(schema, encoding="utf-8")
            if whole:
                (new / MANIFEST_FILE).write_text(_manifest(header, now), encoding="utf-8")
            files.upload(scratch, folder)
            staged = f"{scratch.rel}/{folder}"
            counts["written"] += len(changed)
            counts["removed"] += len(removed)
            if whole:
                files.swap(staged, folder)
                continue
            for key in [*changed, *removed]:
                files.swap(f"{staged}/{key}", f"{folder}/{key}")
                department = f"{folder}/{key.split('/')[0]}"
                if files.exists(department) and not files.folders(department):
                    files.delete(department)
            files.write_text(f"{folder}/{SCHEMA_FILE}", schema)
            if before is not None:
                kept = {k: v for k, v in before.items() if k not in removed}
                files.write_text(f"{folder}/{MANIFEST_FILE}", _manifest(header, {**kept, **now}))
    log.info("lake export: %d rows in %d partitions written, %d unchanged, %d removed", sum(written.values()),
             counts["written"], counts["unchanged"], counts["removed"])
    return written


def mark_exported(conn, root: Path | str, folders: Iterable[str], spark=None) -> None:
    """Write the `_schema.json` and `_manifest.json` an export would write for mart and internal folders whose
    Parquet files already hold the warehouse table's rows (a Spark build's tables, just brought back into the
    warehouse: engines/marts.py): the next export with seed_marts leaves them as they are unless the warehouse's
    table has changed since."""
    files = lake_files(root, spark)
    queries = written_tables(conn)
    for folder in folders:
        table = Table(folder, queries[folder], partitioned=False)
        files.write_text(f"{folder}/{SCHEMA_FILE}", _schema(conn, table.query))
        files.write_text(f"{folder}/{MANIFEST_FILE}",
                         _manifest(_manifest_header(conn, table), _fingerprints(conn, table.query, table)))
