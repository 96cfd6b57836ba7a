"""Data-quality checks over the warehouse, used as blocking Dagster asset checks (plain SQL, no Dagster)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import identifiers as ids

_FAR_FUTURE = dt.date(2999, 12, 31)
LEGACY_PREFIXES = ("ORG:", "REG:", "XID:")


def duplicate_current_records(conn, department: str, month: str) -> list[dict]:
    """Where records of the partition with more than one current version came from (must be none): department,
    month, file, sheet and row of each such version (the other versions may come from other partitions). Record
    ids are not returned: unkeyed, they can be recomputed from an ID. Scoped to the partition's records, so its
    cost grows with the submission, not with the warehouse."""
    rows = conn.execute("""
        WITH mine AS (SELECT DISTINCT record_id FROM core.credit_record
                      WHERE valid_to IS NULL AND department = $department AND month = $month),
             dup AS (SELECT record_id FROM core.credit_record JOIN mine USING (record_id)
                     WHERE valid_to IS NULL GROUP BY record_id HAVING count(*) > 1)
        SELECT department, month, file_name, sheet, excel_row FROM core.credit_record JOIN dup USING (record_id)
        WHERE valid_to IS NULL
        ORDER BY ALL""", {"department": department, "month": month}).fetchall()
    return [dict(zip(("department", "month", "file_name", "sheet", "excel_row"), r)) for r in rows]


def invalid_subject_ids(conn, department: str, month: str) -> list[str]:
    """Subjects of the partition's records whose id is neither a valid USCC / citizen ID nor a marked legacy key.
    Returned masked. Only the partition's subjects are read (not all of core.subject)."""
    rows = conn.execute("""
        SELECT subject_id, subject_type FROM core.subject WHERE subject_id IN (
            SELECT DISTINCT subject_id FROM core.credit_record WHERE department = $department AND month = $month)""",
        {"department": department, "month": month}).fetchall()
    if not rows:
        return []
    sid = pa.array([r[0] for r in rows], pa.string())
    person = np.array([r[1] == "person" for r in rows], bool)
    legacy = np.zeros(len(sid), bool)
    for prefix in LEGACY_PREFIXES:
        legacy |= np.asarray(pc.fill_null(pc.starts_with(sid, prefix), False).to_numpy(zero_copy_only=False), bool)
    person_ok = np.asarray(pc.is_null(ids.citizen_id_errors(sid, _FAR_FUTURE)).to_numpy(zero_copy_only=False), bool)
    org_ok = np.asarray(pc.is_null(ids.uscc_errors(sid)).to_numpy(zero_copy_only=False), bool)
    ok = legacy | np.where(person, person_ok, org_ok)
    bad = sid.filter(pa.array(~ok))
    return ids.mask_id(bad).to_pylist()


def unbalanced_submissions(conn, department: str, month: str) -> list[dict]:
    """Submissions of the partition where rows read ≠ loaded + rejected, or rejected rows lack their reasons."""
    rows = conn.execute("""
        SELECT s.file_name, s.rows_read, s.rows_loaded, s.rows_rejected, s.file_error_code,
               (SELECT count(DISTINCT (r.sheet, r.excel_row)) FROM ops.rejected_row r
                 WHERE r.submission_id = s.submission_id AND r.severity = 'error') AS rows_with_errors
        FROM ops.submission s WHERE s.department = ? AND s.month = ?""", [department, month]).fetchall()
    bad = []
    for file_name, read, loaded, rejected, file_error, with_errors in rows:
        if read != loaded + rejected or (file_error is None and with_errors != rejected):
            bad.append({"file_name": file_name, "rows_read": read, "rows_loaded": loaded,
                        "rows_rejected": rejected, "rows_with_error_reasons": with_errors})
    return bad


def unexplained_list_entries(conn, as_of: dt.date) -> dict[str, int]:
    """Per mart table with a `reasons` column: entries for as_of without reasons or without a rule."""
    tables = conn.execute("""
        SELECT table_name, bool_or(column_name = 'rule_id') FROM duckdb_columns()
        WHERE schema_name = 'mart' AND table_name IN (
            SELECT table_name FROM duckdb_columns() WHERE schema_name = 'mart' AND column_name = 'reasons')
          AND table_name IN (
            SELECT table_name FROM duckdb_columns() WHERE schema_name = 'mart' AND column_name = 'as_of')
        GROUP BY table_name ORDER BY table_name""").fetchall()
    out = {}
    for table, has_rule in tables:
        rule = " OR rule_id IS NULL" if has_rule else ""
        n = conn.execute(f"""SELECT count(*) FROM mart."{table}" WHERE as_of = ? AND
            (reasons IS NULL OR json_array_length(reasons) = 0{rule})""", [as_of]).fetchone()[0]
        if n:
            out[table] = n
    return out


def unmapped_watch_causes(conn, as_of: dt.date) -> dict[str, int]:
    """Listable bad records whose cause looks like a watch-list category but maps to none (mart.watch_unmapped),
    counted per 'department/category it looks like' for the credit office to classify (no cause text: it is
    free text a department wrote)."""
    exists = conn.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'mart' "
                          "AND table_name = 'watch_unmapped'").fetchone()[0]
    if not exists:
        return {}
    rows = conn.execute("""SELECT department || '/' || rule_id, count(*) FROM (
                               SELECT department, unnest(looks_like) AS rule_id FROM mart.watch_unmapped
                               WHERE as_of = ?) GROUP BY ALL ORDER BY 1""", [as_of]).fetchall()
    return dict(rows)
