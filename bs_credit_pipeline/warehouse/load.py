"""Load one (department, month) partition from staging into the warehouse, in one transaction.

Rules (documented for analysts in docs/WAREHOUSE.md):

- The partition's content is every valid row of its current staged files. A resubmission replaces what the
  partition contributed before: unchanged records keep their version, changed ones get a new version
  ('corrected'), records it no longer contains are closed ('withdrawn'), unseen ones are inserted ('new';
  'reinstated' when an earlier version was withdrawn).
- The batch is deduplicated on record_id first: the row from the most recently received file wins, within a
  file the lowest-placed row (highest Excel row), remaining ties by sheet name then content hash.
- Records are deduplicated against the warehouse on record_id across partitions: the same record from another
  partition supersedes the current version when its content differs, else nothing happens.
- Content is the canonical values (content_hash); a version keeps the values as written of the row that made it
  (`written`, like file_name and excel_row): a resubmission writing the same values in other words is unchanged.
- Kinds credit_repair and objection go to core.repair / core.objection (see repairs.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb

from .. import faults
from ..lists.sql import ident
from .privacy import shape_sql
from .repairs import REPAIR_KINDS, load_repairs, match_targets
from .staged import StagedFile
from .subjects import refresh_subjects
from .transaction import transaction

PROMOTED = {"category": "VARCHAR", "end_date": "DATE", "severity": "VARCHAR",
            "legal_rep_name": "VARCHAR", "legal_rep_id": "VARCHAR"}

_BATCH_DDL = """
CREATE OR REPLACE TEMP TABLE batch_raw (
    record_id VARCHAR, content_hash VARCHAR, kind VARCHAR, domain VARCHAR, subject_id VARCHAR,
    subject_type VARCHAR, subject_name VARCHAR, org_code VARCHAR, record_date DATE,
    category VARCHAR, end_date DATE, severity VARCHAR, legal_rep_name VARCHAR, legal_rep_id VARCHAR,
    payload JSON, submission_id VARCHAR, file_sha256 VARCHAR, file_name VARCHAR, sheet VARCHAR,
    excel_row INTEGER, file_rank INTEGER, written MAP(VARCHAR, VARCHAR))
"""


@dataclass(frozen=True)
class LoadResult:
    department: str
    month: str
    submissions: int
    rows_staged: int          # valid record rows in the partition's staged files
    batch_duplicates: int     # rows dropped by the in-batch dedup
    inserted_new: int         # version 1 (or reinstated) rows
    inserted_corrected: int   # new versions of changed records
    versions_closed: int      # corrected + withdrawn
    withdrawn: int
    unchanged: int
    subjects_new: int
    repairs: int
    objections: int
    duration_s: float


def submission_id(department: str, month: str, sha256: str) -> str:
    return f"{department}|{month}|{sha256}"


def _stage_records(conn, files: list[tuple[int, StagedFile]], department: str, month: str,
                   promote: Mapping[str, Mapping[str, str]]) -> int:
    """Read the partition's record rows into temp table `batch`, deduplicated; returns rows read."""
    conn.execute(_BATCH_DDL)
    for rank, staged in files:
        columns = staged.row_columns()
        contract = [c for c in columns if not c.startswith("_")]
        payload = "to_json(struct_pack(" + ", ".join(f"{ident(c)} := {ident(c)}" for c in contract) + "))"
        mapping = promote.get(staged.kind or "", {})
        promoted = []
        for target, sql_type in PROMOTED.items():
            source = mapping.get(target)
            if source in columns:
                cast = "TRY_CAST" if sql_type == "DATE" else "CAST"
                promoted.append(f"{cast}({ident(source)} AS {sql_type})")
            else:
                promoted.append(f"NULL::{sql_type}")
        written = "_written" if "_written" in columns else "NULL"  # staged before values as written were kept
        conn.execute(
            f"""INSERT INTO batch_raw SELECT _record_id, _content_hash, _kind, _domain, _subject_id,
                   _subject_type, _subject_name, _org_code, _record_date, {', '.join(promoted)}, {payload},
                   $sid, _file_sha256, _file_name, _sheet, _excel_row, $rank, {written}
                FROM read_parquet($path)""",
            {"sid": submission_id(department, month, staged.sha256), "rank": rank, "path": str(staged.rows)},
        )
    conn.execute(
        """CREATE OR REPLACE TEMP TABLE batch AS
           SELECT * FROM batch_raw
           QUALIFY row_number() OVER (PARTITION BY record_id
               ORDER BY file_rank DESC, excel_row DESC, sheet, content_hash) = 1"""
    )
    rows_staged = conn.execute("SELECT count(*) FROM batch_raw").fetchone()[0]
    conn.execute("DROP TABLE batch_raw")
    return rows_staged


def _apply_records(conn, department: str, month: str, now: datetime, archived: list[str]) -> dict[str, int]:
    params = {"dept": department, "month": month}
    conn.execute(
        """CREATE OR REPLACE TEMP TABLE cur AS
           SELECT version_id, record_id, content_hash, subject_id, department, month, submission_id
           FROM core.credit_record
           WHERE valid_to IS NULL
             AND (record_id IN (SELECT record_id FROM batch) OR (department = $dept AND month = $month))""",
        params,
    )
    conn.execute(
        """CREATE OR REPLACE TEMP TABLE plan AS
           WITH prior AS (
               SELECT record_id, max(version) AS version FROM core.credit_record
               WHERE record_id IN (SELECT record_id FROM batch) GROUP BY record_id)
           SELECT b.record_id, b.subject_id, b.subject_type, b.subject_name, b.org_code, b.record_date,
               c.version_id AS cur_version_id, coalesce(p.version, 0) + 1 AS new_version,
               CASE WHEN c.version_id IS NULL AND p.version IS NULL THEN 'new'
                    WHEN c.version_id IS NULL THEN 'reinstated'
                    WHEN c.content_hash = b.content_hash THEN 'unchanged'
                    ELSE 'corrected' END AS action
           FROM batch AS b LEFT JOIN cur AS c USING (record_id) LEFT JOIN prior AS p USING (record_id)"""
    )
    conn.execute(
        """CREATE OR REPLACE TEMP TABLE closing AS
           SELECT cur_version_id AS version_id, subject_id, false AS withdrawn FROM plan WHERE action = 'corrected'
           UNION ALL
           SELECT version_id, subject_id, true FROM cur
           WHERE department = $dept AND month = $month AND record_id NOT IN (SELECT record_id FROM batch)
             AND NOT list_contains($archived, submission_id)""",
        {**params, "archived": archived},
    )
    conn.execute(
        """UPDATE core.credit_record AS r
           SET valid_to = $now, change_reason = CASE WHEN x.withdrawn THEN 'withdrawn' ELSE r.change_reason END
           FROM closing AS x WHERE r.version_id = x.version_id""",
        {"now": now},
    )
    conn.execute(
        """INSERT INTO core.credit_record
           SELECT b.record_id || '|' || p.new_version, b.record_id, p.new_version, b.kind, b.domain, b.subject_id,
                  b.subject_type, b.subject_name, b.record_date, b.end_date, b.category, b.severity,
                  b.legal_rep_name, b.legal_rep_id, b.payload, b.content_hash, $dept, $month, b.submission_id,
                  b.file_sha256, b.file_name, b.sheet, b.excel_row, $now, NULL, p.action, b.written
           FROM batch AS b JOIN plan AS p USING (record_id) WHERE p.action <> 'unchanged'""",
        {**params, "now": now},
    )
    counts = dict(conn.execute("SELECT action, count(*) FROM plan GROUP BY action").fetchall())
    closed, withdrawn = conn.execute("SELECT count(*), count(*) FILTER (WHERE withdrawn) FROM closing").fetchone()
    return {"new": counts.get("new", 0) + counts.get("reinstated", 0), "corrected": counts.get("corrected", 0),
            "unchanged": counts.get("unchanged", 0), "closed": closed, "withdrawn": withdrawn}


def _record_submissions(conn, files: Sequence[StagedFile], department: str, month: str, now: datetime,
                        sensitive: Sequence[str] | None) -> None:
    prefix = submission_id(department, month, "")
    for staged in files:
        m = staged.manifest
        sid = submission_id(department, month, staged.sha256)
        file_error = m.get("file_error") or {}
        loaded = conn.execute(
            "SELECT loaded_at FROM ops.submission WHERE submission_id = ?", [sid]).fetchone()
        loaded_at = loaded[0] if loaded and loaded[0] is not None else (now if staged.rows else None)
        conn.execute("DELETE FROM ops.submission WHERE submission_id = ?", [sid])
        conn.execute(
            "INSERT INTO ops.submission VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "CAST(? AS JSON), CAST(? AS JSON), CAST(? AS JSON), ?, ?)",
            [sid, department, month, m["file_name"], staged.sha256, m.get("kind"), m.get("format"),
             m.get("received_at"), m.get("processed_at"), m["status"], m.get("rows_read", 0),
             m.get("rows_loaded", 0), m.get("rows_rejected", 0), m.get("rows_skipped", 0),
             file_error.get("code"), file_error.get("message"),
             _json(m.get("error_counts")), _json(m.get("dropped_columns")), _json(m.get("hidden_sheets")),
             m.get("report_path"), loaded_at],
        )
        if staged.purged:  # its raw copies are gone: what the warehouse holds of it stays as it is
            continue
        conn.execute("DELETE FROM ops.rejected_row WHERE submission_id = ?", [sid])
        if staged.rejections:  # identifier and personal values are kept as their shape only (message too)
            hidden = "TRUE" if sensitive is None else '"column" IN (SELECT unnest($sensitive))'
            conn.execute(
                f"""INSERT INTO ops.rejected_row
                   SELECT $sid, $dept, $month, sheet, excel_row, excel_column, "column", header,
                          CASE WHEN {hidden} THEN {shape_sql('raw_value')} ELSE raw_value END, code, severity,
                          CASE WHEN {hidden} AND raw_value <> '' THEN replace(message, raw_value, {shape_sql('raw_value')})
                               ELSE message END, hint
                   FROM read_parquet($path)""",
                {"sid": sid, "dept": department, "month": month, "path": str(staged.rejections),
                 **({} if sensitive is None else {"sensitive": list(sensitive)})},
            )
    current = [submission_id(department, month, s.sha256) for s in files]
    conn.execute(
        "UPDATE ops.submission SET status = 'superseded' "
        "WHERE starts_with(submission_id, $prefix) AND NOT list_contains($current, submission_id)",
        {"prefix": prefix, "current": current},
    )


def _json(value) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def load_partition(conn: duckdb.DuckDBPyConnection, *, department: str, month: str,
                   staged: Sequence[StagedFile], now: datetime,
                   promote: Mapping[str, Mapping[str, str]] | None = None,
                   targets: Mapping[str, tuple[str, str]] | None = None,
                   sensitive: Sequence[str] | None = None) -> LoadResult:
    """Replace the partition's contribution to the warehouse with `staged`, atomically.

    promote: kind -> {category|end_date|severity|legal_rep_name|legal_rep_id: staging column}.
    targets: repair/objection target_kind (Chinese title or kind id) -> (kind, natural-key column), used to
    match repairs and objections to records.
    sensitive: contract columns whose submitted values ops.rejected_row keeps as their shape only (5.30502E+17
    -> #.#####A+##); None hides every rejected value.
    """
    started = time.perf_counter()
    unique = list({s.sha256: s for s in staged}.values())
    ranked = sorted(unique, key=lambda s: (s.manifest.get("received_at") or "", s.sha256))
    record_files = [(i, s) for i, s in enumerate(ranked) if s.rows and s.kind not in REPAIR_KINDS]
    with transaction(conn):
        faults.point("load.begin")
        rows_staged = _stage_records(conn, record_files, department, month, promote or {})
        batch_rows = conn.execute("SELECT count(*) FROM batch").fetchone()[0]
        archived = [submission_id(department, month, s.sha256) for s in ranked if s.purged]
        counts = _apply_records(conn, department, month, now, archived)
        subjects_new = refresh_subjects(conn, now)
        repairs, objections = load_repairs(
            conn, [(i, s) for i, s in enumerate(ranked) if s.rows and s.kind in REPAIR_KINDS], department, month,
            archived)
        match_targets(conn, targets or {})
        _record_submissions(conn, ranked, department, month, now, sensitive)
        for table in ("batch", "cur", "plan", "closing"):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
        faults.point("load.before_commit")  # the block's last statement: COMMIT follows it directly
    faults.point("load.after_commit")
    return LoadResult(
        department=department, month=month, submissions=len(ranked), rows_staged=rows_staged,
        batch_duplicates=rows_staged - batch_rows, inserted_new=counts["new"],
        inserted_corrected=counts["corrected"], versions_closed=counts["closed"],
        withdrawn=counts["withdrawn"], unchanged=counts["unchanged"], subjects_new=subjects_new,
        repairs=repairs, objections=objections, duration_s=round(time.perf_counter() - started, 3),
    )
