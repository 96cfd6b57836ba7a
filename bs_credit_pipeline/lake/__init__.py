"""The partitioned Parquet lake (docs/LAKE.md): layout, and the export from the DuckDB warehouse."""

from .export import export
from .layout import LAKE_VAR, TABLES, lake_root

__all__ = ["export", "lake_root", "LAKE_VAR", "TABLES"]
