"""Audited look-up of one named subject's records (the `bs-credit lookup` command's logic)."""

from __future__ import annotations

import uuid
from datetime import datetime

import duckdb
import pyarrow as pa

from ..identifiers import pseudonymise
from .transaction import transaction

_RECORDS = """
    SELECT r.* FROM core.current_record AS r
    WHERE r.subject_id = $sid OR r.resolved_subject_id = $sid
       OR r.subject_id IN (SELECT subject_id FROM core.subject WHERE merged_into = $sid)
    ORDER BY r.record_date DESC NULLS LAST, r.kind, r.record_id
"""


def record_lookup(conn: duckdb.DuckDBPyConnection, subject_id: str, *, operator: str, purpose: str,
                  now: datetime, key: bytes) -> pa.Table:
    """Current records of `subject_id` (legacy keys linked to it included), after writing audit.lookup.

    The audit row (operator, purpose, subject token, rows shown) is committed in the same transaction that
    reads the rows; nothing is returned unless it was written. The subject is stored as its keyed token.
    """
    if not (operator or "").strip() or not (purpose or "").strip():
        raise ValueError("查询个人信用记录必须填写操作人（operator）和查询目的（purpose），本次查询未执行。")
    token = pseudonymise([subject_id], key)[0].as_py()
    with transaction(conn):
        shown = conn.execute(f"SELECT count(*) FROM ({_RECORDS})", {"sid": subject_id}).fetchone()[0]
        conn.execute(
            "INSERT INTO audit.lookup VALUES (?, ?, ?, ?, ?, ?)",
            [uuid.uuid4().hex, now, operator.strip(), purpose.strip(), token, shown],
        )
        rows = conn.sql(_RECORDS, params={"sid": subject_id}).to_arrow_table()
    return rows
