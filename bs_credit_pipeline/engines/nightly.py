"""The nightly lists on Spark (BS_CREDIT_ENGINE=spark): export the warehouse to the lake, build every mart table
with Spark SQL over it (written under <lake>/mart), then bring those tables back into the warehouse
(engines/marts.py) and finish as the DuckDB build does (pipeline.finish_lists). The embedded warehouse stays the
source of truth: downstream steps read its marts on either engine."""

from __future__ import annotations

import datetime as dt

from .. import lake, lists
from ..contracts import Registry
from ..lake.export import mark_exported
from ..locking import writer_lock
from ..paths import Home
from ..warehouse import schema
from . import marts


def build_lists_on_spark(home: Home, as_of: dt.date, spark) -> dict[str, int]:
    """Export the lake (the warehouse's mart history included: an unchanged table is not rewritten), build_all on
    `spark`, replace the warehouse's tables by the ones Spark wrote; row counts per mart table as of `as_of`."""
    from ..pipeline import EVALUATION_TABLES, evaluation_steps, finish_lists
    from . import spark as engine

    root = lake.lake_root(home)
    rules = lists.load_rules()
    with writer_lock(home.root):
        conn = schema.connect(home.warehouse, read_only=True)
        try:
            lake.export(conn, root, Registry.load(), staging=home.staging, seed_marts=True, spark=spark)
        finally:
            conn.close()
    engine.register_lake(spark, root)
    sconn = engine.SparkConnection(spark, root)
    lists.build_all(sconn, as_of, rules, extra_steps=evaluation_steps(), transaction=False)
    ddl = marts.duckdb_ddl(as_of, rules, evaluation_steps())
    with writer_lock(home.root):
        conn = schema.connect(home.warehouse)
        try:
            schema.migrate(conn)
            marts.replace_tables(conn, sconn.files, sconn.written, ddl)
            mark_exported(conn, root, [t.replace(".", "/") for t in sconn.written], spark)
            return finish_lists(conn, home, as_of, rules, (*lists.MART_TABLES, *EVALUATION_TABLES))
        finally:
            conn.close()
