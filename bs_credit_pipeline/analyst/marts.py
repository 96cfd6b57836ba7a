"""Schema `analyst` of the snapshot: lookup tables and views generated from the contracts and analyst.yaml.

Built inside the snapshot file after the masked tables are copied, reading only them, so nothing here sees an
unmasked value. Views (not tables): building them costs nothing at snapshot time; the per-kind views read the
record's JSON payload when queried. Every column's privacy class is declared in privacy.yaml (`analyst.*`)
except the contract fields of the per-kind views, which come from the masked payload (see privacy.py).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from .. import status, yamlfile
from ..contracts import Registry
from ..contracts.model import ColumnSpec
from ..lists.sql import lit
from .catalog import Catalog

log = logging.getLogger(__name__)
RULES_DIR = Path(__file__).resolve().parents[2] / "data_contracts" / "rules"
SCHEMA = "analyst"


def field_column(column: ColumnSpec, catalog: Catalog) -> tuple[str, str]:
    """(column name, SQL type) of a contract field in its kind's view: amounts carry their unit in the name."""
    if column.unit:
        suffix = catalog.units[column.unit]["suffix"]
        name = column.name if column.name.endswith(suffix) else f"{column.name}_{suffix}"
        return name, "INTEGER" if column.type == "integer" else "DECIMAL(18,2)"
    if column.type == "date":
        return column.name, "DATE"
    if _is_boolean(column):
        return column.name, "BOOLEAN"
    return column.name, "VARCHAR"


def _is_boolean(column: ColumnSpec) -> bool:
    return column.type == "enum" and not column.multi and set(column.values or ()) == {"是", "否"}


def _field_sql(column: ColumnSpec, catalog: Catalog) -> str:
    text = f"(r.payload->>{lit(column.name)})"
    name, sql_type = field_column(column, catalog)
    if column.unit:
        factor = catalog.units[column.unit]["factor"]
        value = f"TRY_CAST({text} AS DECIMAL(18,6))" + (f" * {factor}" if factor != 1 else "")
        expr = f"CAST({value} AS {sql_type})"
    elif sql_type == "DATE":
        expr = f"TRY_CAST({text} AS DATE)"
    elif sql_type == "BOOLEAN":
        expr = f"CASE {text} WHEN '是' THEN TRUE WHEN '否' THEN FALSE END"
    else:
        expr = text
    return f'{expr} AS "{name}"'


def _subject_class_sql(catalog: Catalog, subject_id: str, subject_type: str) -> str:
    whens = [f"WHEN left({subject_id}, 2) = {lit(p)} THEN {lit(c['code'])}"
             for c in catalog.subject_classes for p in c["uscc_prefixes"]]
    return f"CASE WHEN {subject_type} = 'person' THEN 'person' {' '.join(whens)} ELSE 'other_org' END"


def _reason_sql(registry: Registry, catalog: Catalog) -> tuple[str, str]:
    """SQL of a record's reason text and its document numbers (joined by ；), by kind."""
    reason = " ".join(f"WHEN {lit(k)} THEN r.payload->>{lit(s['reason'])}" for k, s in catalog.reasons.items())
    docs = []
    for kind, spec in catalog.reasons.items():
        if spec["documents"]:
            parts = ", ".join(f"r.payload->>{lit(f)}" for f in spec["documents"])
            docs.append(f"WHEN {lit(kind)} THEN nullif(concat_ws('；', {parts}), '')")
    return (f"CASE r.kind {reason} END",
            f"CASE r.kind {' '.join(docs)} END" if docs else "NULL::VARCHAR")


# Common columns of analyst.record and of every per-kind view (the kind's contract fields follow them).
COMMON = ["record_id", "version", "kind", "kind_zh", "domain", "subject_id", "resolved_subject_id", "subject_type",
          "subject_class", "subject_class_zh", "subject_name", "department", "department_name", "record_date",
          "end_date", "category", "severity", "status", "status_zh", "status_reason", "status_as_of",
          "display_from", "display_last_day", "repair_possible_from", "rule_id", "reason_text", "document_no",
          "submission_month", "submission_id", "file_name", "sheet", "excel_row", "written"]


def _base_sql(registry: Registry, catalog: Catalog) -> str:
    """SELECT of the common columns (and `payload` for the per-kind views) over the current records."""
    reason, documents = _reason_sql(registry, catalog)
    return f"""
        SELECT r.record_id, r.version, r.kind, k.zh AS kind_zh, r.domain, r.subject_id, r.resolved_subject_id,
               r.subject_type, {_subject_class_sql(catalog, 'r.subject_id', 'r.subject_type')} AS subject_class,
               r.subject_name, r.department, d.department_name, r.record_date, r.end_date, r.category,
               r.severity, s.status, st.zh AS status_zh, s.status_reason, s.as_of AS status_as_of,
               r.record_date AS display_from, CAST(s.display_max_end - 1 AS DATE) AS display_last_day,
               s.display_min_end AS repair_possible_from, s.rule_id, {reason} AS reason_text,
               {documents} AS document_no, r.month AS submission_month, r.submission_id, r.file_name, r.sheet,
               r.excel_row, r.written, r.payload
        FROM core.current_record AS r
        LEFT JOIN mart.record_status AS s ON s.record_id = r.record_id
        LEFT JOIN {SCHEMA}.record_kind AS k ON k.kind = r.kind
        LEFT JOIN {SCHEMA}.department AS d ON d.department = r.department
        LEFT JOIN {SCHEMA}.status AS st ON st.scope = 'record' AND st.status = s.status"""


def _with_class_zh(select: str) -> str:
    cols = ", ".join(f"b.{c}" if c != "subject_class_zh" else "sc.zh AS subject_class_zh" for c in COMMON)
    return (f"SELECT {cols}%FIELDS% FROM ({select}) AS b "
            f"LEFT JOIN {SCHEMA}.subject_class AS sc ON sc.subject_class = b.subject_class")


def kind_views(registry: Registry, catalog: Catalog) -> dict[str, str]:
    """analyst.record and analyst.<kind> for every record kind: name -> CREATE VIEW statement."""
    base = _with_class_zh(_base_sql(registry, catalog))
    out = {"record": f"CREATE VIEW {SCHEMA}.record AS {base.replace('%FIELDS%', '')}"}
    for kind, contract in registry.contracts.items():
        fields = [_field_sql(c, catalog).replace("r.payload", "b.payload") for c in contract.columns
                  if field_column(c, catalog)[0] not in COMMON]
        select = base.replace("%FIELDS%", "".join(", " + f for f in fields))
        out[kind] = f"CREATE VIEW {SCHEMA}.{kind} AS {select} WHERE b.kind = {lit(kind)}"
    return out


def lookup_rows(registry: Registry, catalog: Catalog) -> dict[str, tuple[list[tuple[str, str]], list[tuple]]]:
    """Lookup tables: name -> ([(column, SQL type)], rows)."""
    kinds_zh = {k: c.title for k, c in registry.contracts.items()}
    expected = status.expectations()  # department -> first month it must submit (departments.yaml `expected`)
    return {
        "department": ([("department", "VARCHAR"), ("department_name", "VARCHAR"), ("aliases", "VARCHAR[]"),
                        ("kinds", "VARCHAR[]"), ("kinds_zh", "VARCHAR[]"), ("domains", "VARCHAR[]"),
                        ("expected_from", "VARCHAR")],
                       [(d.code, d.name, list(d.aliases), list(d.kinds), [kinds_zh[k] for k in d.kinds],
                         list(d.domains), expected.get(d.code)) for d in registry.departments.values()]),
        "record_kind": ([("kind", "VARCHAR"), ("zh", "VARCHAR"), ("standard", "VARCHAR"),
                         ("legal_basis", "VARCHAR[]")],
                        [(k, c.title, c.standard, list(c.legal_basis)) for k, c in registry.contracts.items()]),
        "domain": ([("domain", "VARCHAR"), ("code", "VARCHAR"), ("aliases", "VARCHAR[]")],
                   [(d.name, d.code, list(d.aliases)) for d in registry.domains.values()]),
        "error_code": ([("code", "VARCHAR"), ("severity", "VARCHAR"), ("title_zh", "VARCHAR"),
                        ("message_zh", "VARCHAR"), ("hint", "VARCHAR")],
                       [(code, m.severity, m.title, m.zh, m.hint) for code, m in registry.messages.items()]),
        "status": ([("scope", "VARCHAR"), ("status", "VARCHAR"), ("zh", "VARCHAR")],
                   [(scope, s, zh) for scope, names in catalog.statuses.items() for s, zh in names.items()]),
        "rule": ([("rule_id", "VARCHAR"), ("title", "VARCHAR"), ("legal_basis", "VARCHAR"),
                  ("source_file", "VARCHAR")], rules(RULES_DIR)),
        "subject_class": ([("subject_class", "VARCHAR"), ("zh", "VARCHAR"), ("uscc_prefixes", "VARCHAR[]")],
                          [(c["code"], c["zh"], c["uscc_prefixes"]) for c in catalog.subject_classes]),
        "list": ([("list_name", "VARCHAR"), ("zh", "VARCHAR"), ("polarity", "VARCHAR")],
                 [(name, spec["zh"], spec["polarity"]) for name, spec in catalog.lists.items()]),
    }


def rules(rules_dir: Path) -> list[tuple]:
    """(rule_id, title, legal basis, file) of every rule with an id in the rules files, sources resolved."""
    out, seen = [], set()
    for path in sorted(rules_dir.glob("*.yaml")):
        raw = yamlfile.read(path)
        sources = raw.get("sources", {}) if isinstance(raw, dict) else {}

        def walk(node, name=None):
            if isinstance(node, dict):
                rule_id = node.get("rule_id") or node.get("id")
                if isinstance(rule_id, str) and rule_id not in seen:
                    seen.add(rule_id)
                    source = sources.get(node.get("source"), {})
                    basis = node.get("basis") or " ".join(
                        x for x in (source.get("document"), source.get("number")) if x) or None
                    title = node.get("title") or node.get("list_name") or node.get("name") or name
                    out.append((rule_id, title, basis, f"rules/{path.name}"))
                for key, value in node.items():
                    walk(value, key if isinstance(key, str) else name)
            elif isinstance(node, list):
                for value in node:
                    walk(value, name)

        walk(raw)
    return out


def _deadline_sql(month: str) -> str:
    rules_ = yamlfile.read(RULES_DIR / "scorecard.yaml")["deadline"]
    return (f"CAST(strptime({month} || '-01', '%Y-%m-%d') + INTERVAL {int(rules_['months_after'])} MONTH "
            f"+ INTERVAL {int(rules_['day']) - 1} DAY AS DATE)")


def other_views(catalog: Catalog) -> dict[str, str]:
    """The list, history, timeline, quality, timeliness and government views: name -> CREATE VIEW."""
    a = SCHEMA
    lists = {
        "black_list": "list_type, first_listed, listed_until, withheld",
        "punishment_measure": "measure AS list_type, NULL::DATE AS first_listed, NULL::DATE AS listed_until, withheld",
        "watch_list": "watch_type AS list_type, NULL::DATE, NULL::DATE, withheld",
        "red_list": "basis AS list_type, NULL::DATE, NULL::DATE, FALSE",
        "green_channel": "basis AS list_type, NULL::DATE, NULL::DATE, FALSE",
    }
    entries = " UNION ALL ".join(
        f"SELECT as_of, {lit(name)} AS list_name, subject_id, subject_type, subject_name, {cols}, rule_id, reasons "
        f"FROM mart.{name}" for name, cols in lists.items())
    return {
        "list_entry": f"""CREATE VIEW {a}.list_entry AS
            WITH e AS ({entries}),
            flat AS (SELECT e.* EXCLUDE (reasons),
                            unnest(from_json(e.reasons, '[{{"record_id":"VARCHAR"}}]')).record_id AS record_id
                     FROM e)
            SELECT f.as_of, f.list_name, l.zh AS list_name_zh, f.list_type, f.subject_id, f.subject_type,
                   f.subject_name, f.first_listed, f.listed_until, CAST(f.listed_until - 1 AS DATE) AS display_last_day,
                   f.withheld, f.rule_id, ru.title AS rule_title, f.record_id, r.kind, r.kind_zh, r.department,
                   r.department_name, r.record_date, r.reason_text, r.document_no, r.status, r.status_zh,
                   r.file_name, r.sheet, r.excel_row
            FROM flat AS f
            LEFT JOIN {a}.record AS r ON r.record_id = f.record_id
            LEFT JOIN {a}.list AS l ON l.list_name = f.list_name
            LEFT JOIN {a}.rule AS ru ON ru.rule_id = f.rule_id""",
        "list_history": f"""CREATE VIEW {a}.list_history AS
            SELECT s.as_of, s.list_name, l.zh AS list_name_zh, s.subject_id, s.subject_type, s.subject_name,
                   s.rule_id, ru.title AS rule_title, len(s.record_ids) AS records
            FROM mart.list_snapshot AS s
            LEFT JOIN {a}.list AS l ON l.list_name = s.list_name
            LEFT JOIN {a}.rule AS ru ON ru.rule_id = s.rule_id""",
        "list_change": f"""CREATE VIEW {a}.list_change AS
            SELECT c.as_of, strftime(c.as_of, '%Y-%m') AS month, c.previous_as_of, c.list_name,
                   l.zh AS list_name_zh, c.change, st.zh AS change_zh, c.subject_id, c.subject_type,
                   c.subject_name, c.rule_id, ru.title AS rule_title, c.reason AS reason_code, c.reason_text
            FROM mart.list_change AS c
            LEFT JOIN {a}.list AS l ON l.list_name = c.list_name
            LEFT JOIN {a}.status AS st ON st.scope = 'list_change' AND st.status = c.change
            LEFT JOIN {a}.rule AS ru ON ru.rule_id = c.rule_id""",
        "list_size": f"""CREATE VIEW {a}.list_size AS
            WITH sizes AS (SELECT as_of, list_name, count(*) AS entries FROM mart.list_snapshot GROUP BY ALL),
            changes AS (SELECT as_of, list_name, count(*) FILTER (WHERE change = 'added') AS added,
                               count(*) FILTER (WHERE change = 'removed') AS removed
                        FROM mart.list_change GROUP BY ALL)
            SELECT s.as_of, s.list_name, l.zh AS list_name_zh, s.entries, coalesce(c.added, 0) AS added,
                   coalesce(c.removed, 0) AS removed
            FROM sizes AS s
            LEFT JOIN changes AS c USING (as_of, list_name)
            LEFT JOIN {a}.list AS l ON l.list_name = s.list_name""",
        "subject_timeline": f"""CREATE VIEW {a}.subject_timeline AS
            SELECT coalesce(r.resolved_subject_id, r.subject_id) AS subject_id, r.subject_name,
                   r.record_date AS event_date, 'record' AS event, '信用记录' AS event_zh, r.kind, r.kind_zh,
                   NULL AS list_name, NULL AS list_name_zh, r.status, r.status_zh, r.reason_text, r.document_no,
                   r.department, r.department_name, r.display_last_day, r.record_id
            FROM {a}.record AS r
            UNION ALL
            SELECT c.subject_id, c.subject_name, c.as_of,
                   CASE c.change WHEN 'added' THEN 'listed' ELSE 'delisted' END,
                   CASE c.change WHEN 'added' THEN '列入名单' ELSE '移出名单' END, NULL, NULL, c.list_name,
                   c.list_name_zh, c.change, c.change_zh, coalesce(c.reason_text, c.rule_title), NULL, NULL, NULL,
                   NULL, NULL
            FROM {a}.list_change AS c WHERE c.subject_id IS NOT NULL""",
        "data_quality": f"""CREATE VIEW {a}.data_quality AS
            SELECT s.department, d.department_name, s.month, count(*) AS files,
                   count(*) FILTER (WHERE s.file_error_code IS NOT NULL) AS files_rejected,
                   sum(s.rows_read) AS rows_read, sum(s.rows_loaded) AS rows_loaded,
                   sum(s.rows_rejected) AS rows_rejected,
                   CASE WHEN sum(s.rows_read) > 0 THEN round(sum(s.rows_rejected) / sum(s.rows_read), 4)
                        WHEN count(*) FILTER (WHERE s.file_error_code IS NOT NULL) = count(*) THEN 1.0 END
                     AS reject_rate,
                   CASE WHEN sum(s.rows_read) > 0 THEN round(100 * sum(s.rows_rejected) / sum(s.rows_read), 2)
                        WHEN count(*) FILTER (WHERE s.file_error_code IS NOT NULL) = count(*) THEN 100.0 END
                     AS reject_rate_pct
            FROM ops.submission AS s
            LEFT JOIN {a}.department AS d ON d.department = s.department
            WHERE s.status <> 'superseded'
            GROUP BY ALL""",
        "data_quality_error": f"""CREATE VIEW {a}.data_quality_error AS
            WITH counts AS (
                SELECT j.department, j.month, j.code, j.severity, count(*) AS occurrences
                FROM ops.rejected_row AS j JOIN ops.submission AS s USING (submission_id)
                WHERE s.status <> 'superseded' GROUP BY ALL)
            SELECT c.department, d.department_name, c.month, c.code, e.title_zh, c.severity, c.occurrences,
                   rank() OVER (PARTITION BY c.department, c.month, c.severity ORDER BY c.occurrences DESC)
                     AS error_rank
            FROM counts AS c
            LEFT JOIN {a}.department AS d ON d.department = c.department
            LEFT JOIN {a}.error_code AS e ON e.code = c.code""",
        "timeliness": f"""CREATE VIEW {a}.timeliness AS
            WITH card AS (SELECT * FROM mart.department_scorecard
                          WHERE as_of = (SELECT max(as_of) FROM mart.department_scorecard)),
            day AS (SELECT max(as_of) AS as_of FROM mart.record_status),
            due AS (  -- every month each department is expected to submit, up to the snapshot's month
                SELECT department, strftime(unnest(range(strptime(expected_from || '-01', '%Y-%m-%d'),
                           date_trunc('month', (SELECT as_of FROM day)) + INTERVAL 1 MONTH, INTERVAL 1 MONTH)),
                           '%Y-%m') AS month
                FROM {a}.department WHERE expected_from IS NOT NULL),
            cells AS (SELECT department, month FROM card UNION SELECT department, month FROM due)
            SELECT (SELECT as_of FROM day) AS as_of, x.department, d.department_name, d.kinds_zh, x.month,
                   (due.month IS NOT NULL) AS expected, coalesce(c.status, x.status) AS status,
                   st.zh AS status_zh, coalesce(c.deadline, x.deadline) AS deadline, c.delivered_at, c.days_late,
                   coalesce(c.files, 0) AS files, coalesce(c.files_rejected, 0) AS files_rejected,
                   coalesce(c.note, st.zh) AS note
            FROM (SELECT cells.*, {_deadline_sql('cells.month')} AS deadline,
                         CASE WHEN (SELECT as_of FROM day) > {_deadline_sql('cells.month')} THEN 'missing'
                              ELSE 'pending' END AS status
                  FROM cells) AS x
            LEFT JOIN card AS c ON c.department = x.department AND c.month = x.month
            LEFT JOIN due ON due.department = x.department AND due.month = x.month
            LEFT JOIN {a}.department AS d ON d.department = x.department
            LEFT JOIN {a}.status AS st ON st.scope = 'timeliness' AND st.status = coalesce(c.status, x.status)""",
        "gov_ranking": f"""CREATE VIEW {a}.gov_ranking AS
            WITH g AS (
                SELECT *, CASE WHEN evaluated_type = 'county' THEN 'division'
                               WHEN rank IS NULL THEN NULL
                               WHEN division_code IN (SELECT division_code FROM mart.gov_integrity_history
                                                      WHERE evaluated_type = 'county' AND rank IS NULL)
                                 THEN 'city' ELSE 'county' END AS level
                FROM mart.gov_integrity_history)
            SELECT as_of, evaluated_id, evaluated_type, name, division_code, level,
                   CASE level WHEN 'city' THEN '市级机关' WHEN 'county' THEN '县级机关'
                              WHEN 'division' THEN '县（市、区）' END AS level_zh,
                   score, stars, length(stars) AS stars_count,
                   rank() OVER (PARTITION BY as_of, evaluated_type, level ORDER BY score DESC) AS rank,
                   rule_id
            FROM g
            WHERE evaluated_type = 'body' OR rank IS NOT NULL""",
        "gov_warning": f"""CREATE VIEW {a}.gov_warning AS
            SELECT as_of, evaluated_id, name, level,
                   CASE level WHEN 'red' THEN '红色预警' WHEN 'orange' THEN '橙色预警' WHEN 'yellow' THEN '黄色预警'
                   END AS level_zh, warning_type, message, rule_id
            FROM mart.gov_warning""",
    }


_SOURCE_RE = re.compile(r"\b(core|mart|ops|analyst)\.([a-z_]+)\b")


def build(conn, registry: Registry, catalog: Catalog) -> list[str]:
    """Create schema `analyst` in the snapshot being built: lookup tables, then the views. Returns the names.

    A view whose source tables are missing (a warehouse the nightly job has not run on has no mart tables) is
    left out, and so are the views built on it; the next snapshot after a nightly run has them all."""
    conn.execute(f"CREATE SCHEMA {SCHEMA}")
    names = []
    for name, (columns, rows) in lookup_rows(registry, catalog).items():
        conn.execute(f"CREATE TABLE {SCHEMA}.{name} ({', '.join(f'{c} {t}' for c, t in columns)})")
        if rows:
            conn.executemany(f"INSERT INTO {SCHEMA}.{name} VALUES ({', '.join('?' * len(columns))})", rows)
        names.append(name)
    present = {f"{s}.{t}" for s, t in conn.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() UNION ALL "
        "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    for name, sql in [*kind_views(registry, catalog).items(), *other_views(catalog).items()]:
        sources = {f"{s}.{t}" for s, t in _SOURCE_RE.findall(sql.split(" AS ", 1)[1])}
        if sources <= present:
            conn.execute(sql)
            present.add(f"{SCHEMA}.{name}")
            names.append(name)
        else:
            log.warning("analyst.%s not built: no %s in the warehouse yet", name, ", ".join(sorted(sources - present)))
    return names
