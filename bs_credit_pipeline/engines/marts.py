"""A Spark build's tables back in the embedded warehouse, where everything downstream reads them: the asset
checks, the public exports, the analytics snapshot, `bs-credit lookup/explain`, the departments' repair feedback.

Every table the Spark build wrote (SparkConnection.written: lists, evaluations, list and government-integrity
history, the entry-key salt) replaces the warehouse's in one DuckDB transaction, from the lake's Parquet files (an
object-store lake's copied to a local temporary folder first). Each is created with the statement DuckDB's own
build creates it with (that build run on an empty in-memory warehouse: under a second), so column types (JSON
where Spark writes text), column order and NOT NULL constraints are DuckDB's. The incremental bases of the replaced
tables are dropped (DuckDB's next build computes them anew) and core.repair gets each repair's decided status, as
the DuckDB build does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import duckdb

from ..lists import basis, build_all
from ..lists.display import mirror_repair_status
from ..lists.sql import lit
from ..warehouse import schema
from ..warehouse.transaction import transaction


def duckdb_ddl(as_of: dt.date, rules: dict, extra_steps: Iterable) -> dict[str, str]:
    """Table ("mart.black_list") -> the CREATE TABLE statement DuckDB's build (build_all with `extra_steps`) gives
    it, from that build on an empty warehouse."""
    conn = duckdb.connect()
    try:
        schema.migrate(conn)
        build_all(conn, as_of, rules, extra_steps=extra_steps)
        rows = conn.execute("SELECT schema_name, table_name, sql FROM duckdb_tables()"
                            " WHERE schema_name IN ('mart', 'internal')").fetchall()
    finally:
        conn.close()
    return {f"{s}.{t}": sql for s, t, sql in rows}


def replace_tables(conn, files, tables: Iterable[str], ddl: dict[str, str]) -> None:
    """Replace each warehouse table of `tables` ("mart.black_list") by the lake's folder <schema>/<table> (files:
    lake/files.py), created by its statement in `ddl`; drop their incremental bases and mirror the repairs' status
    into core.repair. One transaction."""
    tables = sorted(tables)
    with transaction(conn):
        for name in tables:
            with files.local(name.replace(".", "/")) as folder:
                conn.execute(f"DROP TABLE IF EXISTS {name}")
                conn.execute(ddl[name])
                conn.execute(f"INSERT INTO {name} BY NAME SELECT * FROM read_parquet({lit(f'{folder}/**/*.parquet')})")
        if basis.stored_table(conn, "build_basis"):
            names = [name.removeprefix("mart.") for name in tables]
            conn.execute(f"DELETE FROM mart.build_basis WHERE table_name IN ({', '.join(map(lit, names))})")
        mirror_repair_status(conn)
