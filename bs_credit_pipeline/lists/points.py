"""Integrity points (诚信积分) for natural persons -> mart.integrity_score.

Score = base + good-record additions (capped in total) + volunteer-hour points (capped) + deductions,
floored at `min_score`, graded by the `grades` table; all numbers come from data_contracts/rules/points.yaml.
Reads mart.record_status (records with a counted status) joined to core.credit_record for the payload.
Each score lists its items: one per counted record, plus one volunteer-hours item carrying its records.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path

import pyarrow as pa
import yaml

from . import basis
from .sql import lit

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

SQL = """
WITH st AS NOT MATERIALIZED (
    SELECT s.record_id, s.version_id, s.kind, s.subject_id, s.subject_name, s.department, s.record_date,
           s.category, s.severity_tier, s.status, s.file_name, s.sheet, s.excel_row
    FROM mart.record_status s
    WHERE s.as_of = $as_of AND s.subject_type = 'person' AND {persons}
),
persons AS (  -- everyone with a record dated by as_of (status 'future' = record date after as_of)
    SELECT subject_id,
           -- the name on the latest dated record (an undated one only when none is dated), ties by record_id
           arg_max(subject_name, {'d': coalesce(record_date, DATE '0001-01-01'), 'r': record_id}) AS subject_name
    FROM st WHERE status <> 'future' GROUP BY subject_id
),
counted AS (SELECT * FROM st WHERE status IN (SELECT unnest($statuses))),
first_rule AS (  -- the first matching rule depends on (kind, tier, category) only: match each combination once
    SELECT k.kind, k.severity_tier, k.category, min(r.ord) AS ord
    FROM (SELECT DISTINCT kind, severity_tier, category FROM counted) k JOIN _points_rules r
      ON k.kind = r.kind
     AND (r.severity_tier IS NULL OR k.severity_tier = r.severity_tier)
     AND (r.keyword IS NULL OR contains(coalesce(k.category, ''), r.keyword))
    GROUP BY ALL
),
matched AS (
    SELECT c.*, r.ord, r.rule, r.title, r.points, r.section
    FROM counted c
    JOIN first_rule f ON f.kind = c.kind AND f.severity_tier IS NOT DISTINCT FROM c.severity_tier
                     AND f.category IS NOT DISTINCT FROM c.category
    JOIN _points_rules r ON r.ord = f.ord
),
credited AS (
    SELECT *, greatest(0, least(points, $add_cap - coalesce(sum(points) OVER (
               PARTITION BY subject_id ORDER BY points DESC, record_date, record_id
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))) AS credited
    FROM matched WHERE section = 'addition'
    UNION ALL
    SELECT *, points AS credited FROM matched WHERE section = 'deduction'
),
record_items AS (
    SELECT subject_id, credited AS points, CASE section WHEN 'addition' THEN 0 ELSE 2 END AS grp,
           record_date, record_id,
           to_json({'record_id': record_id, 'kind': kind, 'department': department, 'file_name': file_name,
                    'sheet': sheet, 'excel_row': excel_row, 'category': category, 'points': credited,
                    'rule': rule, 'title': title}) AS item
    FROM credited
),
vol_records AS MATERIALIZED (  -- only volunteer records need the payload (hours)
    SELECT c.*, TRY_CAST(cr.payload ->> $hours_field AS DOUBLE) AS hours
    FROM counted c
    JOIN (SELECT version_id, payload FROM core.credit_record WHERE kind = $vol_kind AND valid_to IS NULL) cr
      ON cr.version_id = c.version_id
    WHERE c.kind = $vol_kind AND c.record_date > CAST($as_of - to_months($vol_months) AS DATE)
      AND c.record_date <= $as_of
),
vol AS (
    SELECT subject_id, sum(hours) AS hours,
           list({'record_id': record_id, 'department': department, 'file_name': file_name, 'sheet': sheet,
                 'excel_row': excel_row, 'record_date': record_date, 'hours': hours}
                ORDER BY record_date, record_id) AS records
    FROM vol_records WHERE hours > 0 GROUP BY subject_id
),
vol_items AS (
    SELECT subject_id, points, 1 AS grp, NULL::DATE AS record_date, NULL::VARCHAR AS record_id,
           to_json({'record_id': NULL, 'kind': $vol_kind, 'department': NULL, 'file_name': NULL,
                    'sheet': NULL, 'excel_row': NULL, 'category': NULL, 'points': points,
                    'rule': $vol_rule, 'title': $vol_title, 'hours': hours, 'records': records}) AS item
    FROM (SELECT *, CAST(least($vol_cap, floor(hours / $vol_step) * $vol_pps) AS INTEGER) AS points FROM vol)
),
items AS (SELECT * FROM record_items UNION ALL SELECT * FROM vol_items),
item_lists AS (  -- one JSON array per person: list(item ORDER BY grp, record_date, record_id), sorted once per group
    SELECT subject_id, sum(points) AS points,
           '[' || array_to_string(list_transform(list_sort(list({'g': grp, 'd': record_date, 'r': record_id,
                                                                  'i': item})), lambda x: x.i), ',') || ']' AS items
    FROM items GROUP BY subject_id
),
scores AS (
    SELECT p.subject_id, p.subject_name,
           CAST(greatest($min_score, $base + coalesce(l.points, 0)) AS INTEGER) AS score,
           coalesce(l.items, '[]') AS items
    FROM persons p LEFT JOIN item_lists l USING (subject_id)
)
SELECT s.subject_id, s.subject_name, s.score, {grade} AS grade, s.items, $rule_id AS rule_id, $as_of AS as_of
FROM scores s
"""


def load_rules(path: str | Path | None = None) -> dict:
    """Read points.yaml (default: data_contracts/rules/points.yaml of this repository)."""
    return yaml.safe_load(Path(path or DEFAULT_RULES).read_text(encoding="utf-8"))


def _rule_table(rules: dict) -> pa.Table:
    """One row per (rule, keyword); `ord` gives first-match priority (additions, then deductions)."""
    rows = []
    sections = [("addition", rules["additions"]["rules"]), ("deduction", rules["deductions"]["rules"])]
    for section, specs in sections:
        for spec in specs:
            for keyword in spec.get("match") or [None]:
                rows.append({"ord": len(rows), "rule": spec["id"], "title": spec["title"], "kind": spec["kind"],
                             "severity_tier": spec.get("severity_tier"), "keyword": keyword,
                             "points": int(spec["points"]), "section": section})
    return pa.Table.from_pylist(rows, schema=pa.schema([
        ("ord", pa.int64()), ("rule", pa.string()), ("title", pa.string()), ("kind", pa.string()),
        ("severity_tier", pa.string()), ("keyword", pa.string()), ("points", pa.int64()),
        ("section", pa.string())]))


def _grade_sql(rules: dict) -> str:
    """CASE over `score`: the highest grade whose minimum it reaches (the grade without a minimum is the floor)."""
    grades = sorted(rules["grades"], key=lambda g: -int(g["min"]) if g.get("min") is not None else float("inf"))
    whens = " ".join(f"WHEN score >= {int(g['min'])} THEN {lit(g['grade'])}" for g in grades if g.get("min") is not None)
    floor = next((g["grade"] for g in grades if g.get("min") is None), None)
    return f"CASE {whens} ELSE {lit(floor)} END"


def _todo_sql(since: date, as_of: date, months: int) -> str:
    """The persons whose score can differ from the one stored for `since`: those whose record statuses changed
    (mart.record_status_change, kept by the record_status update from `since`) and those with volunteer records
    entering or leaving the hours window."""
    lo, hi = sorted((since, as_of))
    return f"""
        SELECT subject_id FROM mart.record_status_change
        UNION
        SELECT subject_id FROM mart.record_status
        WHERE kind = $vol_kind AND subject_type = 'person'
          AND record_date > CAST({lit(lo)} - to_months({months}) AS DATE)
          AND record_date <= CAST({lit(hi)} - to_months({months}) AS DATE)
    """


def build(conn, as_of: date, rules: dict) -> int:
    """Bring mart.integrity_score to the scores as of `as_of`; returns the number of persons scored. When the table
    holds the scores of the date mart.record_status was just updated from (same rules), only the persons whose
    score can differ are scored again; otherwise everyone is."""
    vol = rules["volunteer"]
    params = {
        "as_of": as_of, "statuses": list(rules["statuses"]), "add_cap": int(rules["additions"]["cap"]),
        "hours_field": vol["hours_field"], "vol_kind": vol["kind"], "vol_months": int(vol["window_months"]),
        "vol_rule": vol["id"], "vol_title": vol["title"], "vol_cap": int(vol["cap"]),
        "vol_step": float(vol["hours_per_step"]), "vol_pps": int(vol["points_per_step"]),
        "min_score": int(rules["min_score"]), "base": int(rules["base"]), "rule_id": rules["rule_id"],
    }
    sql = SQL.replace("{grade}", _grade_sql(rules))
    query_md5 = basis.md5(sql + json.dumps(rules, sort_keys=True, ensure_ascii=False, default=str))
    conn.execute(DDL)
    stored = basis.stored(conn, "integrity_score", query_md5)
    since = basis.changes_since(conn, "record_status", as_of)
    conn.register("_points_rules", _rule_table(rules))
    try:
        if stored is not None and stored == since:
            todo = _todo_sql(since, as_of, params["vol_months"])
            conn.execute(f"CREATE OR REPLACE TEMP TABLE temp_points_todo AS {todo}", {"vol_kind": vol["kind"]})
            conn.execute("DELETE FROM mart.integrity_score WHERE subject_id IN (SELECT subject_id FROM temp_points_todo)")
            basis.swap_as_of(conn, "integrity_score", as_of)
            persons = "s.subject_id IN (SELECT subject_id FROM temp_points_todo)"
        else:
            conn.execute("DELETE FROM mart.integrity_score")
            persons = "TRUE"
        scored = conn.execute("INSERT INTO mart.integrity_score BY NAME " + sql.replace("{persons}", persons),
                              params).fetchall()[0][0]
        conn.execute("DROP TABLE IF EXISTS temp_points_todo")
    finally:
        conn.unregister("_points_rules")
    basis.record(conn, "integrity_score", as_of, query_md5)
    total = conn.execute("SELECT count(*) FROM mart.integrity_score").fetchall()[0][0]
    log.info("integrity_score as of %s: %d of %d persons scored", as_of, scored, total)
    return total
