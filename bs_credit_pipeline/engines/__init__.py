"""The engines the list SQL runs on: DuckDB (embedded default) and Spark SQL over the Parquet lake.

BS_CREDIT_ENGINE picks one (config.engine). A connection says which engine it is through lists.engine.name; the
list steps use it to choose their engine-specific pieces (DuckDB's incremental update paths).
"""

ENGINES = ("duckdb", "spark")
