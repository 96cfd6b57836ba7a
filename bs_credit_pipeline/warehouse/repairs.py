"""Credit repair decisions and objections: staged rows -> core.repair / core.objection, replaced per partition.

Each row is matched to a record where possible: its target_kind (the Chinese kind title, or the kind id) names a
kind, its target_ref equals that kind's natural-key column value in a current record's payload, and the
subjects agree (legacy keys resolved through merged_into). Unmatched rows keep record_id NULL. The row id is the
staged `_record_id`; duplicates inside the batch are resolved like records (latest file, lowest row).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb

from .staged import StagedFile

REPAIR_KINDS = {"credit_repair": "core.repair", "objection": "core.objection"}
_COLUMNS = {"subject_code": "VARCHAR", "target_kind": "VARCHAR", "target_ref": "VARCHAR",
            "received_date": "DATE", "decided_date": "DATE", "outcome": "VARCHAR", "reason": "VARCHAR",
            "obligation_fulfilled": "VARCHAR", "commitment_made": "VARCHAR", "training_and_report": "VARCHAR",
            "deciding_unit": "VARCHAR"}
# columns kept for repairs only (the preconditions the rules check and the deciding body)
_REPAIR_ONLY = ("obligation_fulfilled", "commitment_made", "training_and_report", "deciding_unit")


def _select(columns: list[str]) -> str:
    parts = []
    for name, sql_type in _COLUMNS.items():
        parts.append(f'TRY_CAST("{name}" AS {sql_type}) AS {name}' if name in columns else f"NULL::{sql_type} AS {name}")
    return ", ".join(parts)


def load_repairs(conn: duckdb.DuckDBPyConnection, files: Sequence[tuple[int, StagedFile]], department: str,
                 month: str, archived: Sequence[str] = ()) -> tuple[int, int]:
    """Replace the partition's repairs and objections, except those of `archived` submissions (purged by
    retention, kept as loaded); returns (repairs, objections) loaded."""
    prefix = f"{department}|{month}|"
    conn.execute(
        """CREATE OR REPLACE TEMP TABLE rep_raw (item_id VARCHAR, kind VARCHAR, subject_id VARCHAR,
           subject_code VARCHAR, target_kind VARCHAR, target_ref VARCHAR, received_date DATE, decided_date DATE,
           outcome VARCHAR, reason VARCHAR, obligation_fulfilled VARCHAR, commitment_made VARCHAR,
           training_and_report VARCHAR, deciding_unit VARCHAR, submission_id VARCHAR, sheet VARCHAR,
           excel_row INTEGER, file_rank INTEGER, written MAP(VARCHAR, VARCHAR))"""
    )
    for rank, staged in files:
        columns = staged.row_columns()
        subject = "_subject_id" if "_subject_id" in columns else "NULL::VARCHAR"
        written = "_written" if "_written" in columns else "NULL"  # staged before values as written were kept
        conn.execute(
            f"""INSERT INTO rep_raw BY NAME
                SELECT _record_id AS item_id, $kind AS kind, {subject} AS subject_id, {_select(columns)},
                       $sid AS submission_id, _sheet AS sheet, _excel_row AS excel_row, $rank AS file_rank,
                       {written} AS written
                FROM read_parquet($path)""",
            {"kind": staged.kind, "sid": prefix + staged.sha256, "rank": rank, "path": str(staged.rows)},
        )
    conn.execute(
        """CREATE OR REPLACE TEMP TABLE rep AS
           SELECT *, coalesce(subject_id, subject_code) AS subject_key, NULL::VARCHAR AS record_id FROM rep_raw
           QUALIFY row_number() OVER (PARTITION BY kind, item_id ORDER BY file_rank DESC, excel_row DESC, sheet) = 1"""
    )
    counts = []
    for kind, table in REPAIR_KINDS.items():
        id_column = "repair_id" if kind == "credit_repair" else "objection_id"
        extra = (f"NULL AS status, NULL AS status_reason, {', '.join(_REPAIR_ONLY)}, "
                 if kind == "credit_repair" else "")
        conn.execute(
            f"""DELETE FROM {table} WHERE (starts_with(submission_id, $prefix)
                                           AND NOT list_contains($archived, submission_id))
                OR {id_column} IN (SELECT item_id FROM rep WHERE kind = $kind)""",
            {"prefix": prefix, "kind": kind, "archived": list(archived)},
        )
        counts.append(conn.execute("SELECT count(*) FROM rep WHERE kind = $kind", {"kind": kind}).fetchone()[0])
        if counts[-1]:  # a partition without such rows writes nothing
            conn.execute(
                f"""INSERT INTO {table} BY NAME
                    SELECT item_id AS {id_column}, record_id, subject_key AS subject_id, target_kind, target_ref,
                           received_date, decided_date, outcome, reason, {extra}submission_id, sheet, excel_row,
                           $department AS department, written
                    FROM rep WHERE kind = $kind""",
                {"kind": kind, "department": department},
            )
    conn.execute("DROP TABLE rep_raw")
    conn.execute("DROP TABLE rep")
    return counts[0], counts[1]


def match_targets(conn: duckdb.DuckDBPyConnection, targets: Mapping[str, tuple[str, str]]) -> None:
    """(Re)match every repair and objection to the current record it names.

    Run after every load: a repair may arrive before the record it names (another department's partition
    loaded later), and a record may be corrected or withdrawn after it was matched.
    """
    for table, id_column in (("core.repair", "repair_id"), ("core.objection", "objection_id")):
        conn.execute(f"UPDATE {table} SET record_id = NULL WHERE record_id IS NOT NULL")
        wanted = {t for (t,) in conn.execute(f"SELECT DISTINCT target_kind FROM {table} WHERE target_kind IS NOT NULL").fetchall()}
        for target in sorted(wanted & set(targets)):
            kind, key_column = targets[target]
            conn.execute(
                f"""UPDATE {table} AS t SET record_id = m.record_id FROM (
                        SELECT x.{id_column} AS item_id, min(r.record_id) AS record_id
                        FROM {table} AS x
                        LEFT JOIN core.subject AS sx ON sx.subject_id = x.subject_id
                        JOIN core.credit_record AS r
                          ON r.valid_to IS NULL AND r.kind = $kind
                         AND json_extract_string(r.payload, $path) = x.target_ref
                        LEFT JOIN core.subject AS sr ON sr.subject_id = r.subject_id
                        WHERE x.target_kind = $target
                          AND coalesce(sx.merged_into, x.subject_id) = coalesce(sr.merged_into, r.subject_id)
                        GROUP BY x.{id_column}) AS m
                    WHERE t.{id_column} = m.item_id""",
                {"kind": kind, "path": f"$.{key_column}", "target": target},
            )
