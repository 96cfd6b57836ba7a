"""Integrity points (诚信积分) for natural persons -> mart.integrity_score.

Score = base + good-record additions (capped in total) + volunteer-hour points (capped) + deductions,
floored at `min_score`, graded by the `grades` table; all numbers come from data_contracts/rules/points.yaml.
Reads mart.record_status (records with a counted status) joined to core.credit_record for the payload.
Each score lists its items: one per counted record, plus one volunteer-hours item carrying its records.
The query is lists/queries/integrity_score.sql; the nightly in-place update of the table is DuckDB's.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path

from .. import yamlfile
from . import basis, engine, rule_tables, sqlfiles

log = logging.getLogger(__name__)

DEFAULT_RULES = Path(__file__).resolve().parents[2] / "data_contracts" / "rules" / "points.yaml"

DDL = """
CREATE TABLE IF NOT EXISTS mart.integrity_score (
    subject_id   VARCHAR NOT NULL,   -- 18-digit citizen ID
    subject_name VARCHAR NOT NULL,
    score        INTEGER NOT NULL,
    grade        VARCHAR NOT NULL,   -- AAA | AA | A | B | C | D (points.yaml)
    items        JSON NOT NULL,      -- [{record_id, kind, department, file_name, sheet, excel_row, category,
                                     --   points, rule, title}, volunteer item {..., hours, records: [...]}]
    rule_id      VARCHAR NOT NULL,
    as_of        DATE NOT NULL       -- last: a nightly update replaces the column (basis.swap_as_of)
)
"""


def load_rules(path: str | Path | None = None) -> dict:
    """Read points.yaml (default: data_contracts/rules/points.yaml of this repository)."""
    return yamlfile.read(path or DEFAULT_RULES)


def build(conn, as_of: date, rules: dict) -> int:
    """Bring mart.integrity_score to the scores as of `as_of`; returns the number of persons scored. When the table
    holds the scores of the date mart.record_status was just updated from (same rules), only the persons whose
    score can differ are scored again (DuckDB); otherwise everyone is."""
    rule_tables.create(conn, rule_tables.points_statements(as_of, rules))
    query_md5 = basis.md5(sqlfiles.text("integrity_score")
                          + json.dumps(rules, sort_keys=True, ensure_ascii=False, default=str))
    if not engine.incremental(conn):
        conn.execute("CREATE OR REPLACE TABLE mart.integrity_score AS "
                     + sqlfiles.statements("integrity_score", persons="TRUE")[0])
        return conn.execute("SELECT count(*) FROM mart.integrity_score").fetchall()[0][0]
    conn.execute(DDL)
    stored = basis.stored(conn, "integrity_score", query_md5)
    since = basis.changes_since(conn, "record_status", as_of)
    if stored is not None and stored == since:
        lo, hi = sorted((since, as_of))
        months = int(rules["volunteer"]["window_months"])
        conn.execute(f"CREATE OR REPLACE TEMP TABLE points_update_params AS SELECT"
                     f" {rule_tables.months_before(lo, months)} AS since_lo, {rule_tables.months_before(hi, months)} AS since_hi")
        conn.execute("CREATE OR REPLACE TEMP TABLE temp_points_todo AS " + sqlfiles.text("integrity_score_todo"))
        conn.execute("DELETE FROM mart.integrity_score WHERE subject_id IN (SELECT subject_id FROM temp_points_todo)")
        basis.swap_as_of(conn, "integrity_score", as_of)
        persons = "s.subject_id IN (SELECT subject_id FROM temp_points_todo)"
    else:
        conn.execute("DELETE FROM mart.integrity_score")
        persons = "TRUE"
    scored = conn.execute("INSERT INTO mart.integrity_score BY NAME "
                          + sqlfiles.statements("integrity_score", persons=persons)[0]).fetchall()[0][0]
    conn.execute("DROP TABLE IF EXISTS temp_points_todo")
    basis.record(conn, "integrity_score", as_of, query_md5)
    total = conn.execute("SELECT count(*) FROM mart.integrity_score").fetchall()[0][0]
    log.info("integrity_score as of %s: %d of %d persons scored", as_of, scored, total)
    return total
