"""The warehouse's one transaction manager, on a real DuckDB file: what it commits is there for the next connection,
what fails inside it leaves nothing, and a block joined to the caller's transaction is the caller's to keep."""

from __future__ import annotations

import duckdb
import pytest

from bs_credit_pipeline.warehouse.transaction import rolled_back, transaction


@pytest.fixture
def path(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE t (x INTEGER)")
    return path


def rows(path) -> list[int]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return rows_in(conn)


def rows_in(conn) -> list[int]:
    return [x for (x,) in conn.execute("SELECT x FROM t ORDER BY x").fetchall()]


def test_commit_is_visible_to_the_next_connection(path):
    with duckdb.connect(str(path)) as conn, transaction(conn):
        conn.execute("INSERT INTO t VALUES (1), (2)")
    assert rows(path) == [1, 2]


def test_exception_rolls_everything_back_and_is_raised(path):
    with duckdb.connect(str(path)) as conn:
        with pytest.raises(KeyError), transaction(conn):
            conn.execute("INSERT INTO t VALUES (1)")
            conn.execute("CREATE TABLE u (y INTEGER)")
            raise KeyError("boom")
        assert conn.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'u'").fetchone()[0] == 0
        with transaction(conn):  # no transaction left open: the next one begins
            conn.execute("INSERT INTO t VALUES (3)")
    assert rows(path) == [3]


def test_interrupt_rolls_back_too(path):
    with duckdb.connect(str(path)) as conn, pytest.raises(KeyboardInterrupt), transaction(conn):
        conn.execute("INSERT INTO t VALUES (1)")
        raise KeyboardInterrupt
    assert rows(path) == []


def test_a_statement_error_rolls_back_the_earlier_statements(path):
    with duckdb.connect(str(path)) as conn, pytest.raises(duckdb.CatalogException), transaction(conn):
        conn.execute("INSERT INTO t VALUES (1)")
        conn.execute("INSERT INTO missing VALUES (2)")
    assert rows(path) == []


def test_nesting_without_joined_is_refused(path):
    with duckdb.connect(str(path)) as conn, pytest.raises(duckdb.TransactionException), transaction(conn):
        conn.execute("INSERT INTO t VALUES (1)")
        with transaction(conn):
            conn.execute("INSERT INTO t VALUES (2)")
    assert rows(path) == []


def test_joined_block_is_committed_with_the_callers_transaction(path):
    with duckdb.connect(str(path)) as conn, transaction(conn):
        conn.execute("INSERT INTO t VALUES (1)")
        with transaction(conn, joined=True):
            conn.execute("INSERT INTO t VALUES (2)")
        conn.execute("INSERT INTO t VALUES (3)")  # still open: joined neither committed nor rolled back
    assert rows(path) == [1, 2, 3]


def test_joined_block_failing_leaves_the_rollback_to_the_caller(path):
    with duckdb.connect(str(path)) as conn:
        with pytest.raises(KeyError), transaction(conn):
            conn.execute("INSERT INTO t VALUES (1)")
            with transaction(conn, joined=True):
                conn.execute("INSERT INTO t VALUES (2)")
                raise KeyError("boom")
        assert rows_in(conn) == []


def test_joined_without_a_transaction_runs_in_autocommit(path):
    with duckdb.connect(str(path)) as conn:
        with pytest.raises(KeyError), transaction(conn, joined=True):
            conn.execute("INSERT INTO t VALUES (1)")
            raise KeyError("boom")
    assert rows(path) == [1]


def test_rolled_back_keeps_nothing_but_returns_what_was_read(path):
    with duckdb.connect(str(path)) as conn:
        with rolled_back(conn):
            conn.execute("INSERT INTO t VALUES (1)")
            seen = rows_in(conn)
        with pytest.raises(KeyError), rolled_back(conn):
            conn.execute("INSERT INTO t VALUES (2)")
            raise KeyError("boom")
    assert seen == [1]
    assert rows(path) == []
