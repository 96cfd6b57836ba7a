"""Sanction lists: mart.black_list, mart.punishment_measure, mart.watch_list."""

from __future__ import annotations

import datetime as dt

from .common import LATEST_NAME, LATEST_TYPE, LISTABLE, OBJECTION_JOIN, REASONS
from .sql import in_list, keyword_regex, lit, values


def build_black_list(conn, as_of: dt.date, rules: dict) -> None:
    """Active listing decisions (dishonest debtors, serious-dishonesty lists), one row per subject and list."""
    spec = values(
        [(b["id"], b["kind"], b["list_name"]) for b in rules["lists"]["black_list"]],
        [("rule_id", "VARCHAR"), ("kind", "VARCHAR"), ("list_name", "VARCHAR")],
    )
    conn.execute(f"""
        CREATE OR REPLACE TABLE mart.black_list AS
        SELECT rs.as_of, rs.subject_id, {LATEST_TYPE} AS subject_type, {LATEST_NAME} AS subject_name,
               rs.kind AS list_type, b.list_name, min(rs.record_date) AS first_listed,
               max(rs.display_max_end) AS listed_until,
               NOT bool_or(rs.status = 'active') AS withheld,
               {REASONS} AS reasons, b.rule_id
        FROM mart.record_status rs
        JOIN {spec} b ON b.kind = rs.kind
        {OBJECTION_JOIN}
        WHERE rs.polarity = 'bad' AND {LISTABLE}
        GROUP BY rs.as_of, rs.subject_id, rs.kind, b.list_name, b.rule_id
        ORDER BY rs.subject_id, b.rule_id
    """)


def build_punishment_measures(conn, as_of: dt.date, rules: dict) -> None:
    """Measures per black-list subject, and per legal representative of a listed organisation."""
    measures = values(
        [
            (m["id"], m["name"], m["department"], lst, role)
            for m in rules["measures"]["measures"] for lst in m["lists"] for role in m["applies_to"]
        ],
        [("measure_id", "VARCHAR"), ("measure", "VARCHAR"), ("department", "VARCHAR"),
         ("list_type", "VARCHAR"), ("role", "VARCHAR")],
    )
    kinds = in_list(b["kind"] for b in rules["lists"]["black_list"])
    roles = rules["lists"]["texts"]["measure_roles"]
    conn.execute(f"""
        CREATE OR REPLACE TABLE mart.punishment_measure AS
        WITH entries AS (
            SELECT bl.*, CASE WHEN bl.subject_type = 'org' THEN 'org' ELSE 'person' END AS role
            FROM mart.black_list bl
        ), reps AS (
            SELECT DISTINCT rs.subject_id AS listed_subject_id, rs.kind AS list_type,
                   cr.legal_rep_id, cr.legal_rep_name
            FROM mart.record_status rs
            JOIN core.credit_record cr ON cr.version_id = rs.version_id
            {OBJECTION_JOIN}
            WHERE rs.kind IN {kinds} AND rs.polarity = 'bad' AND {LISTABLE}
              AND coalesce(cr.legal_rep_id, cr.legal_rep_name) IS NOT NULL
        ), people AS (
            SELECT e.as_of, e.subject_id, e.subject_type, e.subject_name, {lit(roles['subject'])} AS role_name, e.role,
                   e.subject_id AS listed_subject_id, e.subject_name AS listed_subject_name,
                   e.list_type, e.list_name, e.withheld, e.reasons
            FROM entries e
            UNION ALL
            SELECT e.as_of, r.legal_rep_id, 'person', r.legal_rep_name, {lit(roles['legal_rep'])}, 'legal_rep',
                   e.subject_id, e.subject_name, e.list_type, e.list_name, e.withheld, e.reasons
            FROM entries e JOIN reps r ON r.listed_subject_id = e.subject_id AND r.list_type = e.list_type
            WHERE e.role = 'org'
        )
        SELECT p.as_of, p.subject_id, p.subject_type, p.subject_name, p.role_name AS role,
               p.listed_subject_id, p.listed_subject_name, p.list_type, p.list_name,
               m.measure, m.department, p.withheld, p.reasons, m.measure_id AS rule_id
        FROM people p
        JOIN {measures} m ON m.list_type = p.list_type AND m.role = p.role
        ORDER BY p.listed_subject_id, p.list_type, p.role_name DESC, p.subject_id NULLS LAST, p.subject_name,
                 m.measure_id
    """)


def _condition_sql(cond: dict, fields: list[str]) -> str:
    """One `when` condition over the columns of the watch-list CTE `bad` (all given keys must match exactly)."""
    parts = []
    for key, column in (("kinds", "kind"), ("domains", "domain"),
                        ("departments", "department"), ("tiers", "severity_tier")):
        if cond.get(key):
            parts.append(f"{column} IN {in_list(cond[key])}")
    if cond.get("categories"):  # a multi-value category is split only when it has several values
        parts.append(f"(category IN {in_list(cond['categories'])} OR (contains(category, '、') AND"
                     f" list_has_any(string_split(category, '、'), [{', '.join(lit(c) for c in cond['categories'])}])))")
    if cond.get("field"):
        parts.append(f"f[{fields.index(cond['field']) + 1}] IN {in_list(cond['values'])}")
    return "(" + " AND ".join(parts or ["TRUE"]) + ")"


def _watch_fields(watch: dict) -> list[str]:
    """Payload fields the mapping and the look-alike search read, in a fixed order."""
    fields = [c["field"] for r in watch["rules"] for c in r["when"] if c.get("field")]
    fields += watch.get("look_alike_fields", [])
    return list(dict.fromkeys(fields))


def build_watch_list(conn, as_of: dt.date, rules: dict) -> None:
    """重点关注名单: subjects with listable bad records mapped to a category, one row per subject and category;
    mart.watch_unmapped: listable bad records mapped to no category whose cause contains a look-alike keyword."""
    watch = rules["lists"]["watch_list"]
    fields = _watch_fields(watch)
    # payload text is stored trimmed (intake normalises every cell), so values compare as they are
    extract = (f"json_extract_string(cr.payload, [{', '.join(lit('$.' + f) for f in fields)}])" if fields
               else "CAST([] AS VARCHAR[])")
    rules_hit = ", ".join(  # the categories a record maps to (each condition evaluated once per record)
        f"CASE WHEN {' OR '.join(_condition_sql(c, fields) for c in r['when'])}"
        f" THEN {{'rule_id': {lit(r['id'])}, 'watch_type': {lit(r['name'])}}} END"
        for r in watch["rules"]
    )
    look = [(r["id"], k) for r in watch["rules"] for k in r.get("look_alike", [])]
    text = " || ' ' || ".join(["coalesce(category, '')"] + [
        f"coalesce(f[{fields.index(f) + 1}], '')" for f in watch.get("look_alike_fields", [])])
    look_any = f"regexp_matches({text}, {keyword_regex(k for _, k in look)})" if look else "FALSE"
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE temp_watch_hit AS
        WITH bad AS (  -- narrow rows: the hash table of the payload join stays small
            SELECT rs.version_id, rs.kind, rs.domain, rs.department, rs.severity_tier, rs.category
            FROM mart.record_status rs
            {OBJECTION_JOIN}
            WHERE rs.polarity = 'bad' AND {LISTABLE}
        ), fielded AS (
            SELECT b.*, {extract} AS f FROM bad b JOIN core.credit_record cr ON cr.version_id = b.version_id
        )
        SELECT * FROM (
            SELECT version_id, list_filter([{rules_hit}], lambda h: h IS NOT NULL) AS hits,
                   CASE WHEN {look_any} THEN {text} END AS look_text
            FROM fielded)
        WHERE len(hits) > 0 OR look_text IS NOT NULL  -- most bad records are neither: keep the table small
    """)
    conn.execute(f"""
        CREATE OR REPLACE TABLE mart.watch_list AS
        WITH hit AS (SELECT version_id, unnest(hits) AS h FROM temp_watch_hit WHERE len(hits) > 0)
        SELECT rs.as_of, rs.subject_id, {LATEST_TYPE} AS subject_type, {LATEST_NAME} AS subject_name,
               hit.h.watch_type, NOT bool_or(rs.status = 'active') AS withheld, {REASONS} AS reasons,
               hit.h.rule_id AS rule_id
        FROM hit JOIN mart.record_status rs ON rs.version_id = hit.version_id
        GROUP BY rs.as_of, rs.subject_id, hit.h.watch_type, hit.h.rule_id
        ORDER BY rs.subject_id, hit.h.rule_id
    """)
    look_rows = values(look, [("rule_id", "VARCHAR"), ("keyword", "VARCHAR")])
    conn.execute(f"""
        CREATE OR REPLACE TABLE mart.watch_unmapped AS
        SELECT rs.as_of, rs.subject_id, rs.record_id, rs.kind, rs.department, rs.domain, rs.category,
               w.look_text AS cause, list_distinct(list(l.rule_id ORDER BY l.rule_id)) AS looks_like,
               rs.file_name, rs.sheet, rs.excel_row
        FROM temp_watch_hit w
        JOIN mart.record_status rs ON rs.version_id = w.version_id
        JOIN {look_rows} l ON contains(w.look_text, l.keyword)
        WHERE len(w.hits) = 0 AND w.look_text IS NOT NULL
        GROUP BY ALL
        ORDER BY rs.department, rs.record_id
    """)
    conn.execute("DROP TABLE temp_watch_hit")
