"""The engines the list SQL runs on: DuckDB (embedded default) and Spark SQL over the Parquet lake.

BS_CREDIT_ENGINE picks one (config.engine). A connection says which engine it is through `engine_of`; the list
steps use it to choose their engine-specific pieces (DuckDB's incremental update paths).
"""

from __future__ import annotations

ENGINES = ("duckdb", "spark")


def engine_of(conn) -> str:
    """"spark" for a SparkConnection, "duckdb" for a DuckDB connection (which has no `engine` attribute)."""
    return getattr(conn, "engine", "duckdb")
