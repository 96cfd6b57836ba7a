"""Which engine a connection runs on, and the one switch between the two ways a mart table is kept.

DuckDB connections (the embedded default) update mart.record_status and mart.integrity_score in place from the
previous night's (DELETE / UPDATE / INSERT BY NAME, mart.build_basis): the incremental path, DuckDB-specific.
Any other engine (a connection with ``.engine``, e.g. "spark") takes the full-rebuild path, whose equality with
the incremental one the list tests prove.
"""

from __future__ import annotations


def name(conn) -> str:
    """"duckdb" for a DuckDB connection, else the connection's ``engine`` attribute."""
    return getattr(conn, "engine", "duckdb")


def incremental(conn) -> bool:
    """Whether mart tables are updated in place from the previous run (DuckDB only)."""
    return name(conn) == "duckdb"


def writes_core(conn) -> bool:
    """Whether list steps may write back into core tables (core.repair's status): on DuckDB they are the
    warehouse; on another engine core.* is the lake export, read-only input (engines/marts.py mirrors the status
    into the warehouse once the marts are back there)."""
    return name(conn) == "duckdb"
