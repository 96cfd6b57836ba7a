"""What an incrementally updated mart table was computed from: mart.build_basis, one row per table.

A nightly step may update its table in place instead of computing it anew only when the stored basis shows the
table was computed by the same query (an md5 of its SQL, rules included). mart.record_status also records the
subjects whose status rows it changed (mart.record_status_change) and since which as-of date, so a step reading it
can update the rows of those subjects only.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from .sql import lit

DDL = """
CREATE TABLE IF NOT EXISTS mart.build_basis (
    table_name    VARCHAR NOT NULL,   -- mart table (one row each)
    as_of         DATE NOT NULL,      -- the date it was computed for
    query_md5     VARCHAR NOT NULL,   -- md5 of the query (rules and code) it was computed by
    changes_since DATE                -- record_status: the as-of date mart.record_status_change leads from
                                      -- (null after a full build, when every row changed)
)
"""


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def stored_table(conn, table: str) -> bool:
    """Whether mart.<table> exists."""
    return conn.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'mart' AND table_name = ?"
                        " AND database_name = current_database()", [table]).fetchall()[0][0] > 0


def stored(conn, table: str, query_md5: str) -> dt.date | None:
    """The as-of date of `table` when it exists and was computed by the same query, else None."""
    if not (stored_table(conn, table) and stored_table(conn, "build_basis")):
        return None
    rows = conn.execute("SELECT as_of FROM mart.build_basis WHERE table_name = ? AND query_md5 = ?",
                        [table, query_md5]).fetchall()
    return rows[0][0] if rows else None


def changes_since(conn, table: str, as_of: dt.date) -> dt.date | None:
    """The as-of date `table`'s change list (mart.record_status_change) leads from, when the table is now
    computed for as_of; None after a full build or for another date."""
    if not stored_table(conn, "build_basis"):
        return None
    rows = conn.execute("SELECT changes_since FROM mart.build_basis WHERE table_name = ? AND as_of = ?",
                        [table, as_of]).fetchall()
    return rows[0][0] if rows else None


def record(conn, table: str, as_of: dt.date, query_md5: str, changes_since: dt.date | None = None) -> None:
    """Note that `table` now holds the result of the query for as_of."""
    conn.execute(DDL)
    conn.execute("DELETE FROM mart.build_basis WHERE table_name = ?", [table])
    conn.execute("INSERT INTO mart.build_basis VALUES (?, ?, ?, ?)", [table, as_of, query_md5, changes_since])


def swap_as_of(conn, table: str, as_of: dt.date) -> None:
    """Set the as_of column of every row of `table` by replacing the column (a constant) instead of an UPDATE of
    each row, which the WAL would log; the column becomes the table's last."""
    conn.execute(f"ALTER TABLE mart.{table} DROP COLUMN as_of")
    conn.execute(f"ALTER TABLE mart.{table} ADD COLUMN as_of DATE DEFAULT {lit(as_of)}")
    conn.execute(f"ALTER TABLE mart.{table} ALTER COLUMN as_of DROP DEFAULT")
    conn.execute(f"ALTER TABLE mart.{table} ALTER COLUMN as_of SET NOT NULL")
