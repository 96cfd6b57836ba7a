"""Spark SQL as a list-building connection: the small surface the list steps use (`execute(sql, params)` with
fetchone/fetchall), over the Parquet lake registered as core.* and ops.* tables in an in-memory catalog.

Statements arrive in DuckDB SQL and are translated by engines/transpile.py. What DuckDB does natively and Spark
over plain Parquet does not is mapped here, by statement type:

- CREATE OR REPLACE TABLE s.t AS q: q is written to a new table, which then replaces s.t (q may read s.t);
- CREATE [OR REPLACE] TEMP TABLE t AS q: CACHE TABLE t AS q (a cached temporary view, computed once);
- CREATE SCHEMA: CREATE DATABASE; CREATE TABLE ... (columns): a Parquet table;
- DELETE FROM s.t WHERE c: s.t rewritten with the rows where c is not true;
- DROP TABLE of a temp table: its view dropped and uncached;
- BEGIN / COMMIT / ROLLBACK: nothing (Spark has no transactions; build_all runs with transaction=False);
- UPDATE s.t SET ... WHERE c: s.t rewritten with the new values where c is true;
- UPDATE ... FROM, and anything else Spark cannot express: NotPortable, naming the statement.
Pyspark is imported only here (the optional `spark` dependency group).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from pathlib import Path

from sqlglot import exp

from ..lake.export import SCHEMA_FILE
from ..lake.files import SCRATCH, lake_files
from ..lake.layout import TABLES
from ..lists.sql import lit
from .transpile import NotPortable, parse, spark_sql, to_spark

log = logging.getLogger(__name__)
DEFAULT_MASTER = "local[2]"
SCHEMAS = ("core", "ops", "mart", "internal")
WRITTEN_SCHEMAS = ("mart", "internal")  # tables the list steps write: <lake>/<schema>/<table>
# DuckDB column types in the lake's _schema.json -> Spark DDL types
_SPARK_TYPES = {"VARCHAR": "STRING", "INTEGER": "INT", "BIGINT": "BIGINT", "DOUBLE": "DOUBLE", "DATE": "DATE",
                "BOOLEAN": "BOOLEAN", "TIMESTAMP WITH TIME ZONE": "TIMESTAMP", "TIMESTAMP": "TIMESTAMP_NTZ",
                "VARCHAR[]": "ARRAY<STRING>", "JSON": "STRING", "FLOAT": "FLOAT", "SMALLINT": "SMALLINT",
                "HUGEINT": "DECIMAL(38,0)"}


# What the list SQL needs of a session: in-memory catalog, UTC, partition values as text, to_json keeping nulls;
# few shuffle partitions (a city's lists are small; a cluster sets its own in spark-defaults.conf or here).
SPARK_CONF = {
    "spark.sql.catalogImplementation": "in-memory",
    "spark.ui.enabled": "false",
    "spark.log.level": "ERROR",
    "spark.sql.shuffle.partitions": "2",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.sql.jsonGenerator.ignoreNullFields": "false",
    "spark.sql.ansi.enabled": "false",
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
}


def session_conf(master: str = DEFAULT_MASTER, work_dir: Path | str | None = None,
                 app: str = "bs-credit-lists") -> dict[str, str]:
    """Every setting of a list-building session: master, application name, SPARK_CONF, and the folder CREATE
    DATABASE writes to (spark.sql.warehouse.dir: <work_dir>/spark-warehouse, else Spark's ./spark-warehouse)."""
    conf = {"spark.master": master, "spark.app.name": app, **SPARK_CONF}
    if work_dir is not None:
        conf["spark.sql.warehouse.dir"] = f"{str(work_dir).rstrip('/')}/spark-warehouse"
    return conf


def session(master: str = DEFAULT_MASTER, work_dir: Path | None = None, app: str = "bs-credit-lists",
            conf: dict[str, str] | None = None):
    """A Spark session with session_conf's settings, `conf` adding or overriding sizing settings
    (spark.driver.memory, spark.sql.shuffle.partitions, ...); getOrCreate: an existing session is reused."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    for key, value in {**session_conf(master, work_dir, app), **(conf or {})}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def _ddl(schema: dict[str, str], skip: tuple[str, ...] = ()) -> str:
    def typ(t: str) -> str:
        if t.startswith("DECIMAL"):
            return t
        if t in _SPARK_TYPES:
            return _SPARK_TYPES[t]
        try:  # composite types (MAP(VARCHAR, VARCHAR), STRUCT(...)): sqlglot writes them in Spark's words
            return exp.DataType.build(t, dialect="duckdb").sql(dialect="spark")
        except Exception as exc:  # noqa: BLE001 - any parse failure is the same user-facing problem
            raise NotPortable(f"lake column type {t} has no Spark type") from exc
    return ", ".join(f"`{name}` {typ(t)}" for name, t in schema.items() if name not in skip)


def register_lake(spark, root: Path | str) -> None:
    """Declare the lake's tables over their folders: core.* and ops.* (lake/layout.TABLES) with the columns of their
    _schema.json and their partitions found; and every table already under <lake>/mart and <lake>/internal
    (tables the list steps keep from run to run, e.g. mart.list_snapshot; the export may seed them). `root` is a
    local folder or an object-store URI (read through the session's Hadoop FileSystem)."""
    files = lake_files(root, spark)
    for schema in SCHEMAS:
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {schema}")
    for name, table in TABLES.items():
        columns = json.loads(files.read_text(f"{table.folder}/{SCHEMA_FILE}"))
        spark.sql(f"DROP TABLE IF EXISTS {name}")
        parts = "PARTITIONED BY (department, month)" if table.partitioned else ""
        ordered = {k: v for k, v in columns.items() if k not in ("department", "month")}
        if table.partitioned:
            ordered |= {"department": "VARCHAR", "month": "VARCHAR"}
        location = lit(files.uri(table.folder))
        spark.sql(f"CREATE TABLE {name} ({_ddl(ordered)}) USING parquet {parts} LOCATION {location}")
        if table.partitioned:
            spark.sql(f"ALTER TABLE {name} RECOVER PARTITIONS")
    for schema in WRITTEN_SCHEMAS:
        for folder in files.folders(schema):
            if not folder.startswith((".", "_")):
                spark.sql(f"DROP TABLE IF EXISTS {schema}.{folder}")
                location = lit(files.uri(f"{schema}/{folder}"))
                spark.sql(f"CREATE TABLE {schema}.{folder} USING parquet LOCATION {location}")


class Result:
    """What execute returns: the rows of a query (or nothing), as tuples, and `description` (DB-API: one
    (name, ...) tuple per column)."""

    def __init__(self, rows: list[tuple] | None = None, columns: list[str] | None = None):
        self._rows = rows or []
        self.description = [(c, None, None, None, None, None, None) for c in columns or []]

    def fetchone(self):
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[tuple]:
        return list(self._rows)


class SparkConnection:
    """A DuckDB-like connection to Spark SQL (see the module docstring for what each statement becomes)."""

    engine = "spark"

    def __init__(self, spark, root: Path | str):
        self.spark = spark
        self.files = lake_files(root, spark)
        self.temp_views: set[str] = set()
        self.written: set[str] = set()  # the lake tables ("mart.black_list") this connection wrote
        self.statements = 0

    def execute(self, sql: str, params=None) -> Result:
        result = Result()
        for tree in parse(sql):
            result = self._run(to_spark(tree, sql, params))
        return result

    def _sql(self, text: str):
        self.statements += 1
        log.debug("spark statement %d: %s (%d chars)", self.statements, text.split(None, 1)[0], len(text))
        return self.spark.sql(text)

    def _run(self, tree: exp.Expression) -> Result:
        if isinstance(tree, exp.Transaction) or isinstance(tree, (exp.Commit, exp.Rollback)):
            return Result()
        if isinstance(tree, exp.Create):
            return self._create(tree)
        if isinstance(tree, exp.Drop):
            return self._drop(tree)
        if isinstance(tree, exp.Delete):
            return self._delete(tree)
        if isinstance(tree, exp.Update):
            return self._update(tree)
        if isinstance(tree, exp.Insert):
            table = tree.this if isinstance(tree.this, exp.Table) else tree.this.this
            name = f"{table.db}.{table.name}" if table.db else table.name  # (.sql() would keep a leading comment)
            self._sql(spark_sql(tree))
            self._sql(f"REFRESH TABLE {name}")
            self.written.add(name)
            return Result()
        frame = self._sql(spark_sql(tree))
        return Result([tuple(r) for r in frame.collect()], frame.columns)

    def _create(self, tree: exp.Create) -> Result:
        kind = (tree.args.get("kind") or "").upper()
        if kind in ("SCHEMA", "DATABASE"):
            target = tree.this
            name = (target.db or target.name) if isinstance(target, exp.Table) else target.sql(dialect="spark")
            self._sql(f"CREATE DATABASE IF NOT EXISTS {name}")
            return Result()
        if kind == "VIEW":
            self._sql(spark_sql(tree))
            return Result()
        if kind != "TABLE":
            raise NotPortable(f"CREATE {kind}: not supported on Spark")
        table = tree.this if isinstance(tree.this, exp.Table) else tree.this.this
        name = table.sql(dialect="spark")
        props = tree.args.get("properties")
        temporary = bool(props and any(isinstance(p, exp.TemporaryProperty) for p in props.expressions))
        query = tree.expression
        if temporary or (not table.db and name.startswith("temp_")):
            if query is None:
                raise NotPortable(f"CREATE TEMP TABLE {name} without AS SELECT")
            self._drop_temp(name)
            if query.find(exp.Table) is None:  # literals only (run parameters, rule relations): nothing to compute
                self._sql(f"CREATE TEMPORARY VIEW {name} AS {spark_sql(query)}")
            else:
                self._sql(f"CACHE TABLE {name} AS {spark_sql(query)}")
            self.temp_views.add(name)
            return Result()
        if query is None:  # CREATE TABLE [IF NOT EXISTS] s.t (columns)
            if tree.args.get("exists") and self._exists(name):
                return Result()
            columns = tree.this.expressions if isinstance(tree.this, exp.Schema) else []
            ddl = ", ".join(f"{c.this.sql(dialect='spark')} {c.args['kind'].sql(dialect='spark')}" for c in columns)
            self._write(name, self.spark.createDataFrame([], ddl))
            return Result()
        if tree.args.get("exists") and self._exists(name):
            return Result()
        self._write(name, self._sql(spark_sql(query)))
        return Result()

    def _exists(self, name: str) -> bool:
        return self.spark.catalog.tableExists(name)

    def _folder(self, name: str) -> str:
        schema, _, table = name.rpartition(".")
        if schema not in WRITTEN_SCHEMAS:
            raise NotPortable(f"writing {name}: Spark writes only the {', '.join(WRITTEN_SCHEMAS)} schemas")
        return f"{schema}/{table}"

    def _write(self, name: str, frame) -> None:
        """Write a DataFrame as table `name` (replacing it; the frame may read it): Parquet into a scratch folder,
        then swapped in place of the table's folder (lake/files.py) and the table declared anew over it."""
        target = self._folder(name)
        scratch = f"{SCRATCH}/{name}-{uuid.uuid4().hex}"
        started = time.perf_counter()
        frame.write.parquet(self.files.uri(scratch))
        log.debug("spark wrote %s in %.1f s", name, time.perf_counter() - started)
        self.spark.sql(f"DROP TABLE IF EXISTS {name}")
        self.files.swap(scratch, target)
        self.spark.sql(f"CREATE TABLE {name} USING parquet LOCATION {lit(self.files.uri(target))}")
        self.written.add(name)

    def _drop_temp(self, name: str) -> None:
        if name in self.temp_views or self.spark.catalog.tableExists(name):
            self._sql(f"UNCACHE TABLE IF EXISTS {name}")
            self._sql(f"DROP VIEW IF EXISTS {name}")
        self.temp_views.discard(name)

    def _drop(self, tree: exp.Drop) -> Result:
        for table in tree.args.get("tables") or [tree.this]:
            name = table.sql(dialect="spark")
            if name in self.temp_views:
                self._drop_temp(name)
            else:
                self._sql(f"DROP {tree.args.get('kind') or 'TABLE'}{' IF EXISTS' if tree.args.get('exists') else ''}"
                          f" {name}")
        return Result()

    def _update(self, tree: exp.Update) -> Result:
        """UPDATE s.t SET c = e WHERE w: s.t rewritten with CASE WHEN w THEN e ELSE c END for each set column.
        UPDATE ... FROM (a join) is not supported."""
        if tree.args.get("from") or tree.args.get("from_"):
            raise NotPortable("UPDATE ... FROM: Parquet tables cannot be updated in place; make the step's write"
                              " DuckDB-only or rebuild the table with CREATE OR REPLACE TABLE ... AS SELECT")
        name = tree.this.sql(dialect="spark")
        where = tree.args.get("where")
        cond = "TRUE" if where is None else f"coalesce(({where.this.sql(dialect='spark')}), FALSE)"
        sets = {s.this.name: s.expression.sql(dialect="spark") for s in tree.expressions}
        columns = self.spark.table(name).columns
        select = ", ".join(f"CASE WHEN {cond} THEN {sets[c]} ELSE `{c}` END AS `{c}`" if c in sets else f"`{c}`"
                           for c in columns)
        self._write(name, self._sql(f"SELECT {select} FROM {name}"))
        return Result()

    def _delete(self, tree: exp.Delete) -> Result:
        name = tree.this.sql(dialect="spark")
        where = tree.args.get("where")
        keep = "FALSE" if where is None else f"NOT coalesce(({where.this.sql(dialect='spark')}), FALSE)"
        self._write(name, self._sql(f"SELECT * FROM {name} WHERE {keep}"))
        return Result()
