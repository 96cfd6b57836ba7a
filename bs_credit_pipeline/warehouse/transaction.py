"""One DuckDB transaction around a block of statements: the warehouse's single BEGIN / COMMIT / ROLLBACK."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def transaction(conn, *, joined: bool = False) -> Iterator[None]:
    """BEGIN, run the block, COMMIT; on any exception (KeyboardInterrupt included) ROLLBACK and re-raise.

    joined=True: the caller already holds the transaction the block belongs to (explain's throw-away build), or
    deliberately none (Spark, the benchmarks' autocommit): nothing is begun, committed or rolled back here, the
    caller decides. DuckDB refuses a BEGIN inside an open transaction, so nesting needs it said.
    """
    if joined:
        yield
        return
    conn.execute("BEGIN TRANSACTION")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


@contextmanager
def rolled_back(conn) -> Iterator[None]:
    """BEGIN, run the block, ROLLBACK whatever happens: work read inside it and never kept."""
    conn.execute("BEGIN TRANSACTION")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
