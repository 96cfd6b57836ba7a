"""Audited explanation of one subject's list decisions (the `bs-credit explain` command's logic)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable

import duckdb

from .. import lists
from ..contracts import Registry
from ..identifiers import pseudonymise
from ..lists.explain import explain_subject
from .transaction import rolled_back, transaction


def _built_as_of(conn) -> dt.date | None:
    exists = conn.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'mart' "
                          "AND table_name = 'record_status'").fetchone()[0]
    return conn.execute("SELECT max(as_of) FROM mart.record_status").fetchone()[0] if exists else None


def explain_audited(conn: duckdb.DuckDBPyConnection, subject_id: str, as_of: dt.date, *, operator: str,
                    purpose: str, now: dt.datetime, key: bytes, rules: dict, registry: Registry,
                    extra_steps: Iterable[Callable] = ()) -> dict:
    """The explanation of `subject_id` as of the date, after writing audit.explain.

    When the mart tables hold another date, the lists are built for as_of inside a transaction that is rolled
    back: the warehouse is left as it was. The audit row (operator, purpose, subject token, rows shown) is
    committed before the explanation is returned; nothing is returned unless it was written.
    """
    if not (operator or "").strip() or not (purpose or "").strip():
        raise ValueError("查询信用名单说明必须填写操作人（operator）和查询目的（purpose），本次查询未执行。")
    if _built_as_of(conn) == as_of:
        explanation = explain_subject(conn, subject_id, as_of, rules, registry)
    else:
        with rolled_back(conn):
            lists.build_all(conn, as_of, rules, extra_steps, transaction=False)
            explanation = explain_subject(conn, subject_id, as_of, rules, registry)
    _add_written(conn, explanation["records"])
    token = pseudonymise([subject_id], key)[0].as_py()
    with transaction(conn):
        conn.execute("INSERT INTO audit.explain VALUES (?, ?, ?, ?, ?, ?, ?)",
                     [uuid.uuid4().hex, now, operator.strip(), purpose.strip(), token, as_of,
                      len(explanation["records"])])
    return explanation


def _add_written(conn: duckdb.DuckDBPyConnection, records: list[dict]) -> None:
    """Each record's values as written ({field: value}) where intake stored another, standard form; else None."""
    ids = [r["record_id"] for r in records]
    written = dict(conn.execute("SELECT record_id, written FROM core.current_record WHERE list_contains($ids, "
                                "record_id) AND written IS NOT NULL", {"ids": ids}).fetchall())
    for r in records:
        r["written"] = written.get(r["record_id"])
