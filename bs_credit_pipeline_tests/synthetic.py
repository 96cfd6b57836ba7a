"""Synthetic staging data in intake's format, for warehouse tests and the warehouse benchmark.

Identifiers are generated with valid check characters; they are synthetic, never real people or bodies.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from bs_credit_pipeline.identifiers import citizen_id_check_char, org_code_check_char, uscc_check_char
from bs_credit_pipeline.warehouse.staged import StagedFile



def org_code(n: int) -> str:
    """A valid 9-char GB 11714 organisation code: 'MA' + 6 digits of n + check char."""
    body = "MA" + f"{n % 1_000_000:06d}"
    return body + org_code_check_char(body)


def uscc(n: int, prefix: str = "91", division: str = "530502") -> str:
    """A valid USCC embedding org_code(n)."""
    body = prefix + division + org_code(n)
    return body + uscc_check_char(body)


def citizen_id(n: int, division: str = "530502", birth: str = "19900101") -> str:
    """A valid 18-digit citizen ID with sequence number n % 1000."""
    body = f"{division}{birth}{n % 1000:03d}"
    return body + citizen_id_check_char(body)


def write_staged(staging_dir: str | Path, department: str, month: str, rows: pa.Table, *, kind: str,
                 key_columns: list[str], date_column: str | None, file_name: str, received_at: datetime,
                 sha256: str, rejections: pa.Table | None = None, rows_rejected: int = 0) -> StagedFile:
    """Write one file's staging output like intake: rows Parquet with provenance columns, manifest, rejections.

    Subject rule: `id_number` -> person; else `uscc`; else `org_code` -> ORG:<code>; else `subject_code`
    (9 chars -> ORG:, 18 digits/X -> person, else org).
    """
    folder = Path(staging_dir) / department / month
    folder.mkdir(parents=True, exist_ok=True)
    names = set(rows.column_names)

    def col(name: str) -> str:
        return f'"{name}"' if name in names else "NULL::VARCHAR"

    code = col("subject_code")
    subject_id = (f"coalesce({col('id_number')}, {col('uscc')}, 'ORG:' || {col('org_code')}, "
                  f"CASE WHEN length({code}) = 9 THEN 'ORG:' || {code} ELSE {code} END)")
    subject_type = (f"CASE WHEN {col('id_number')} IS NOT NULL OR regexp_full_match({code}, '[0-9]{{17}}[0-9X]') "
                    "THEN 'person' ELSE 'org' END")
    contract = ", ".join(f'coalesce(CAST("{c}" AS VARCHAR), \'\')' for c in rows.column_names)
    key = " || chr(31) || ".join([f"'{kind}'", "_subject_id"] + [f'coalesce(CAST("{c}" AS VARCHAR), \'\')'
                                                                  for c in key_columns])
    record_date = f'CAST("{date_column}" AS DATE)' if date_column else "NULL::DATE"
    con = duckdb.connect()
    con.register("rows_in", rows)
    con.execute(
        f"""CREATE TABLE staged AS
            WITH s AS (
                SELECT *, {subject_id} AS _subject_id, {subject_type} AS _subject_type,
                       row_number() OVER () + 1 AS _excel_row FROM rows_in)
            SELECT * EXCLUDE (_subject_id, _subject_type, _excel_row),
                   '{kind}' AS _kind, NULL::VARCHAR AS _domain, $dept AS _department, $month AS _month,
                   $sha AS _file_sha256, $file AS _file_name, 'Sheet1' AS _sheet, _excel_row::BIGINT AS _excel_row,
                   _subject_type, _subject_id, {col('subject_name')} AS _subject_name,
                   CASE WHEN _subject_type = 'org' THEN coalesce({col('org_code')}, substr({col('uscc')}, 9, 9)) END
                       AS _org_code,
                   {record_date} AS _record_date, {key} AS _natural_key,
                   left(sha256({key}), 32) AS _record_id, sha256(concat_ws(chr(31), {contract})) AS _content_hash
            FROM s""",
        {"dept": department, "month": month, "sha": sha256, "file": file_name},
    )
    con.execute("COPY staged TO $path (FORMAT parquet)", {"path": str(folder / f"{sha256}.parquet")})
    loaded = con.execute("SELECT count(*) FROM staged").fetchone()[0]
    con.close()
    if rejections is not None:
        duckdb.connect().from_arrow(rejections).write_parquet(str(folder / f"{sha256}.rejections.parquet"))
    manifest = {
        "file_name": file_name, "sha256": sha256, "department": department, "month": month, "kind": kind,
        "format": "xlsx", "status": "partial" if rows_rejected else "accepted",
        "rows_read": loaded + rows_rejected, "rows_loaded": loaded, "rows_rejected": rows_rejected,
        "rows_skipped": 0, "hidden_sheets": [], "dropped_columns": [], "file_error": None,
        "error_counts": {}, "report_path": None, "received_at": received_at.isoformat(),
        "processed_at": received_at.isoformat(),
    }
    path = folder / f"{sha256}.manifest.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return StagedFile.from_manifest(path)


def write_rejected_file(staging_dir: str | Path, department: str, month: str, *, file_name: str, sha256: str,
                        received_at: datetime, code: str, message: str) -> StagedFile:
    """Write the manifest of a file rejected as a whole (no rows Parquet)."""
    folder = Path(staging_dir) / department / month
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {
        "file_name": file_name, "sha256": sha256, "department": department, "month": month, "kind": None,
        "format": None, "status": "rejected", "rows_read": 0, "rows_loaded": 0, "rows_rejected": 0,
        "rows_skipped": 0, "hidden_sheets": [], "dropped_columns": [],
        "file_error": {"code": code, "message": message}, "error_counts": {code: 1}, "report_path": None,
        "received_at": received_at.isoformat(), "processed_at": received_at.isoformat(),
    }
    path = folder / f"{sha256}.manifest.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return StagedFile.from_manifest(path)
