"""Display-period engine: repair and objection decisions, then mart.record_status as of a date.

Conventions (see data_contracts/rules/display_periods.yaml): periods run from the record date; every
``*_end`` date is exclusive (display_max_end is the first day not displayed; display_min_end the first
day a repair may be requested). Status precedence: future, deleted, repaired, not_displayed,
expired/removed, withheld, active.
"""

from __future__ import annotations

import datetime as dt
import logging

from . import basis
from .sql import in_list, keyword_regex, lit, values

log = logging.getLogger(__name__)

REPAIR_REFUSED_EARLY = "申请日期 {} 早于最短公示期届满日 {}，不予修复"


def _category_rank_sql(display: dict) -> str:
    """Highest tier rank among the 处罚类别 of `category` (joined by 、 ; ； , ，), unknown types -> default_tier."""
    rank = display["tier_rank"]
    cats = " ".join(f"WHEN {lit(k)} THEN {rank[v]}" for k, v in display["category_tiers"].items())
    return (
        "list_max(list_transform(string_split(regexp_replace(coalesce(category, ''), '[;；,，]', '、', 'g'), '、'),"
        f" lambda x: CASE trim(x) {cats} ELSE {rank[display['default_tier']]} END))"
    )


def _tier_sql(display: dict) -> str:
    """severity_tier of a penalty: explicit severity, else the tier of its category rank (cat.cat_rank), minor
    for a simplified-procedure decision ranked at most general."""
    rank = display["tier_rank"]
    by_rank = {v: k for k, v in rank.items()}
    explicit = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in display["severity_tiers"].items())
    to_tier = " ".join(f"WHEN {r} THEN {lit(t)}" for r, t in sorted(by_rank.items()))
    proc = display.get("minor_procedure")
    simple = "FALSE"
    if proc:  # cheap substring test first, JSON parse only on candidate rows
        simple = (f"CASE WHEN contains(CAST(r.payload AS VARCHAR), {lit(proc['value'])}) THEN coalesce("
                  f"json_extract_string(r.payload, {lit('$.' + proc['field'])}) = {lit(proc['value'])}, FALSE) ELSE FALSE END")
    derived = (f"CASE WHEN cat.cat_rank <= {rank['general']} AND {simple} THEN 'minor'"
               f" ELSE CASE cat.cat_rank {to_tier} END END")
    return f"coalesce(CASE r.severity {explicit} END, {derived})"


def _penalty_rule_sql(display: dict) -> str:
    whens = " ".join(
        f"WHEN r.record_date BETWEEN {lit(p['effective_from'])} AND {lit(p['effective_to'])} THEN {lit(p['id'])}"
        for p in display["penalty_rules"]
    )
    return f"CASE {whens} END"


def _rule_title_sql(display: dict) -> str:
    whens = " ".join(f"WHEN {lit(p['id'])} THEN {lit(p['title'])}" for p in display["penalty_rules"])
    return f"CASE b.rule_id {whens} ELSE b.rule_id END"


def _kind_case(display: dict, key: str, default) -> str:
    """CASE over r.kind of one kind-parameter (non-penalty kinds)."""
    fallback = display.get("default_kind", {}).get(key, default)
    whens = " ".join(
        f"WHEN {lit(kind)} THEN {lit(spec.get(key, fallback))}" for kind, spec in display["kinds"].items()
    )
    return f"CASE r.kind {whens} ELSE {lit(fallback)} END"


def _polarity_sql(display: dict) -> str:
    whens = []
    for kind, spec in display["kinds"].items():
        by_cat = spec.get("polarity_by_category")
        if by_cat:
            inner = " ".join(
                f"WHEN regexp_matches(coalesce(r.category, ''), {keyword_regex(by_cat[p])}) THEN {lit(p)}"
                for p in ("bad", "good") if by_cat.get(p)
            )
            whens.append(f"WHEN {lit(kind)} THEN CASE {inner} ELSE 'neutral' END")
        else:
            whens.append(f"WHEN {lit(kind)} THEN {lit(spec.get('polarity', 'neutral'))}")
    default = lit(display.get("default_kind", {}).get("polarity", "neutral"))
    return f"CASE r.kind {' '.join(whens)} ELSE {default} END"


def _term_end_sql(display: dict) -> str:
    whens = " ".join(
        f"WHEN {lit(kind)} THEN TRY_CAST(json_extract_string(r.payload, {lit('$.' + spec['term_end_field'])}) AS DATE)"
        for kind, spec in display["kinds"].items() if spec.get("term_end_field")
    )
    return f"CASE r.kind {whens} END" if whens else "CAST(NULL AS DATE)"


def _base_sql(display: dict, rows: str = "core.credit_record") -> str:
    """Current record versions among `rows` (core.credit_record or a subset of its rows) with tier, rule and
    period parameters (one row per record), resolved subject."""
    penalties = in_list(display["penalty_kinds"])
    tiers = values(
        [
            (p["id"], tier, t["min_months"], t["max_months"], t.get("displayed", True))
            for p in display["penalty_rules"] for tier, t in p["tiers"].items()
        ],
        [("rule_id", "VARCHAR"), ("tier", "VARCHAR"), ("min_months", "INTEGER"),
         ("max_months", "INTEGER"), ("displayed", "BOOLEAN")],
    )
    domain_min = values(
        [(p["id"], d, m) for p in display["penalty_rules"] for d, m in (p.get("domain_min_months") or {}).items()],
        [("rule_id", "VARCHAR"), ("domain", "VARCHAR"), ("min_months", "INTEGER")],
    )
    return f"""
    WITH cat AS (  -- the category's rank, computed once per distinct category
        SELECT category, {_category_rank_sql(display)} AS cat_rank
        FROM (SELECT DISTINCT category FROM {rows} WHERE valid_to IS NULL AND kind IN {penalties})
    ), cur AS (
        SELECT r.record_id, r.version_id, r.kind, r.domain, r.subject_id, r.subject_type, r.subject_name,
               r.department, r.record_date, r.end_date, r.category, r.legal_rep_name, r.legal_rep_id,
               r.file_name, r.sheet, r.excel_row,
               CASE WHEN r.kind IN {penalties} THEN {_tier_sql(display)} END AS severity_tier,
               CASE WHEN r.kind IN {penalties} THEN {_penalty_rule_sql(display)}
                    ELSE {_kind_case(display, 'rule_id', 'default-term')} END AS rule_id0,
               {_polarity_sql(display)} AS polarity,
               {_term_end_sql(display)} AS term_end,
               {_kind_case(display, 'end_date_inclusive', True)} AS end_inclusive,
               {_kind_case(display, 'end_status', 'expired')} AS end_status,
               {_kind_case(display, 'repairable', True)} AS repairable,
               {_kind_case(display, 'min_months', 0)} AS kind_min_months,
               {_kind_case(display, 'term_months', None)} AS kind_term_months
        FROM {rows} r
        LEFT JOIN cat ON cat.category IS NOT DISTINCT FROM r.category
        WHERE r.valid_to IS NULL
    ), params AS (
        SELECT cur.*, cur.rule_id0 AS rule_id,
               CASE WHEN cur.kind IN {penalties} THEN coalesce(dm.min_months, t.min_months)
                    ELSE cur.kind_min_months END AS min_months,
               CASE WHEN cur.kind IN {penalties} THEN t.max_months
                    ELSE cur.kind_term_months END AS max_months,
               coalesce(t.displayed, TRUE) AS displayed
        FROM cur
        LEFT JOIN {tiers} t ON cur.kind IN {penalties} AND t.rule_id = cur.rule_id0 AND t.tier = cur.severity_tier
        LEFT JOIN {domain_min} dm ON cur.kind IN {penalties} AND dm.rule_id = cur.rule_id0 AND dm.domain = cur.domain
    ), ends AS (
        SELECT p.*,
               CAST(p.record_date + to_months(p.min_months) AS DATE) AS display_min_end,
               CAST(coalesce(p.term_end + 1, p.record_date + to_months(p.max_months)) AS DATE) AS term_stop,
               CASE WHEN p.end_inclusive THEN p.end_date + 1 ELSE p.end_date END AS explicit_stop
        FROM params p
    ), ended AS (
        SELECT e.*,
               CASE WHEN NOT e.displayed THEN e.record_date ELSE least(e.term_stop, e.explicit_stop) END
                   AS display_max_end,
               coalesce(e.explicit_stop < e.term_stop OR (e.term_stop IS NULL AND e.explicit_stop IS NOT NULL), FALSE)
                   AS cut_by_end_date
        FROM ends e
    )
    SELECT b.* EXCLUDE (subject_id, subject_type, subject_name),
           coalesce(t.subject_id, s.merged_into, b.subject_id) AS subject_id,
           coalesce(t.subject_type, b.subject_type) AS subject_type,
           coalesce(t.canonical_name, b.subject_name) AS subject_name
    FROM ended b
    LEFT JOIN core.subject s ON s.subject_id = b.subject_id AND s.merged_into IS NOT NULL
    LEFT JOIN core.subject t ON t.subject_id = s.merged_into
    """


def build_repair_decisions(conn, as_of: dt.date, display: dict) -> None:
    """mart.repair_decision for as_of from core.repair and the targeted records; mirror status into core.repair."""
    a = lit(as_of)
    targets = _base_sql(display, _rows_where("record_id IN (SELECT record_id FROM core.repair)"))
    conn.execute(f"""
        CREATE OR REPLACE TABLE mart.repair_decision AS
        WITH b AS ({targets})
        SELECT {a} AS as_of, rp.repair_id, rp.record_id, coalesce(b.subject_id, rp.subject_id) AS subject_id,
               rp.target_kind, rp.target_ref, rp.received_date, rp.decided_date, rp.outcome,
               b.display_min_end,
               CASE
                 WHEN b.record_id IS NULL THEN 'unmatched'
                 WHEN rp.outcome IS DISTINCT FROM '修复' THEN 'refused'
                 WHEN NOT b.repairable THEN 'refused'
                 WHEN coalesce(rp.received_date, rp.decided_date) < b.display_min_end THEN 'refused'
                 WHEN coalesce(rp.decided_date, rp.received_date) > {a} THEN 'pending'
                 ELSE 'granted' END AS status,
               CASE
                 WHEN b.record_id IS NULL THEN '未匹配到需修复的信用记录，请核对记录类别和文书号'
                 WHEN rp.outcome IS DISTINCT FROM '修复' THEN '信用修复机构决定不予修复'
                 WHEN NOT b.repairable THEN '该类记录由作出机关决定移出，不适用信用修复'
                 WHEN coalesce(rp.received_date, rp.decided_date) < b.display_min_end
                   THEN format({lit(REPAIR_REFUSED_EARLY)},
                               strftime(coalesce(rp.received_date, rp.decided_date), '%Y-%m-%d'),
                               strftime(b.display_min_end, '%Y-%m-%d'))
                 WHEN coalesce(rp.decided_date, rp.received_date) > {a} THEN '修复决定尚未生效'
                 ELSE format('已满足最短公示期（{{}} 起可修复），准予修复', strftime(b.display_min_end, '%Y-%m-%d'))
               END AS status_reason
        FROM core.repair rp
        LEFT JOIN b ON b.record_id = rp.record_id
        ORDER BY rp.repair_id
    """)
    conn.execute("""
        UPDATE core.repair SET status = d.status, status_reason = d.status_reason
        FROM mart.repair_decision d
        WHERE d.repair_id = core.repair.repair_id
          AND (core.repair.status IS DISTINCT FROM d.status OR core.repair.status_reason IS DISTINCT FROM d.status_reason)
    """)


def build_objection_state(conn, as_of: dt.date) -> None:
    """temp_objection_state: per record, deleted date and pending-since date as of the date."""
    a = lit(as_of)
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE temp_objection_state AS
        SELECT record_id,
               min(decided_date) FILTER (WHERE outcome = '删除' AND decided_date <= {a}) AS deleted_on,
               min(coalesce(received_date, decided_date))
                   FILTER (WHERE decided_date IS NULL OR decided_date > {a}) AS pending_since
        FROM core.objection
        WHERE record_id IS NOT NULL AND coalesce(received_date, decided_date, DATE '1900-01-01') <= {a}
        GROUP BY record_id
    """)


# Columns of mart.record_status (as_of last: a nightly run replaces that column, see _update_changed).
STATUS_COLUMNS = (
    "record_id", "version_id", "kind", "domain", "subject_id", "subject_type", "subject_name", "department",
    "record_date", "end_date", "category", "polarity", "severity_tier", "rule_id", "display_min_end",
    "display_max_end", "status", "status_reason", "file_name", "sheet", "excel_row", "as_of",
)
# Statuses that objections and repairs decide: such a row is recomputed even when its objection or repair is gone.
DECIDED_STATUSES = ("deleted", "repaired", "withheld")

UPDATE_DDL = """
CREATE TABLE IF NOT EXISTS mart.record_status_merge (  -- the legacy-key merges record_status was computed with
    subject_id     VARCHAR NOT NULL,
    merged_into    VARCHAR NOT NULL,
    target_type    VARCHAR,
    target_name    VARCHAR
);
CREATE TABLE IF NOT EXISTS mart.record_status_change (  -- subjects whose rows the last update replaced (points)
    subject_id     VARCHAR NOT NULL
)
"""
# how each merged subject resolves (display._base_sql: subject_id, subject_type, subject_name of its records)
MERGES_SQL = """
SELECT s.subject_id, s.merged_into, t.subject_type AS target_type, t.canonical_name AS target_name
FROM core.subject s LEFT JOIN core.subject t ON t.subject_id = s.merged_into
WHERE s.merged_into IS NOT NULL
"""


def _rows_where(condition: str) -> str:
    """The current core.credit_record rows matching `condition` (a relation for _base_sql)."""
    return f"(SELECT * FROM core.credit_record WHERE valid_to IS NULL AND {condition})"


def _status_sql(display: dict, as_of: dt.date, rows: str = "core.credit_record") -> str:
    """One row per current record version (among `rows`): its display parameters and its status as of the date."""
    a = lit(as_of)
    day = "strftime({}, '%Y-%m-%d')"
    return f"""
        WITH b AS ({_base_sql(display, rows)}), rep AS (
            SELECT record_id, min(coalesce(decided_date, received_date)) AS repaired_on
            FROM mart.repair_decision WHERE status = 'granted' GROUP BY record_id
        )
        SELECT b.record_id, b.version_id, b.kind, b.domain,
               b.subject_id, b.subject_type, b.subject_name, b.department,
               b.record_date, b.end_date, b.category, b.polarity, b.severity_tier, b.rule_id,
               b.display_min_end, b.display_max_end,
               CASE
                 WHEN b.record_date > {a} THEN 'future'
                 WHEN o.deleted_on IS NOT NULL THEN 'deleted'
                 WHEN rep.repaired_on IS NOT NULL THEN 'repaired'
                 WHEN NOT b.displayed THEN 'not_displayed'
                 WHEN b.display_max_end <= {a} AND b.cut_by_end_date THEN b.end_status
                 WHEN b.display_max_end <= {a} THEN 'expired'
                 WHEN o.pending_since IS NOT NULL THEN 'withheld'
                 ELSE 'active' END AS status,
               CASE
                 WHEN b.record_date > {a} THEN '记录日期 ' || {day.format('b.record_date')} || ' 晚于评估日期'
                 WHEN o.deleted_on IS NOT NULL THEN '异议处理结果为删除（' || {day.format('o.deleted_on')} || '）'
                 WHEN rep.repaired_on IS NOT NULL THEN '已于 ' || {day.format('rep.repaired_on')} || ' 完成信用修复，不再公示'
                 WHEN NOT b.displayed THEN '轻微失信行为，依据' || {_rule_title_sql(display)} || '原则上不予公示'
                 WHEN b.display_max_end <= {a} AND b.cut_by_end_date AND b.end_status = 'removed'
                   THEN '已于 ' || {day.format('b.end_date')} || ' 移出（撤销或屏蔽）'
                 WHEN b.display_max_end <= {a} AND b.cut_by_end_date
                   THEN '公示截止期 ' || {day.format('b.end_date')} || ' 已过'
                 WHEN b.display_max_end <= {a}
                   THEN '公示期届满，最后公示日 ' || {day.format('b.display_max_end - 1')}
                 WHEN o.pending_since IS NOT NULL
                   THEN '异议处理中（' || {day.format('o.pending_since')} || ' 受理），暂停公示'
                 WHEN b.display_max_end IS NULL THEN '有效'
                 ELSE '公示期内，最后公示日 ' || {day.format('b.display_max_end - 1')} END AS status_reason,
               b.file_name, b.sheet, b.excel_row, {a} AS as_of
        FROM b
        LEFT JOIN temp_objection_state o ON o.record_id = b.record_id
        LEFT JOIN rep ON rep.record_id = b.record_id
    """


def _query_md5(display: dict) -> str:
    """Fingerprint of the status query: it changes with the display rules and with this module's SQL."""
    return basis.md5(_status_sql(display, dt.date.min))


def _update_changed(conn, display: dict, as_of: dt.date, stored_as_of: dt.date) -> int:
    """Bring mart.record_status from stored_as_of to as_of by recomputing only the rows whose status can differ;
    returns their number. A stored row keeps its status unless its version is no longer current, its record has
    objections or repairs (or had: a status they decided), its subject's merge changed, or the date moved across
    its record date or its end of display. New current versions are computed. Everything else in a status is fixed
    by the version and the rules, which the basis fingerprint pins."""
    lo, hi = (lit(d) for d in sorted((stored_as_of, as_of)))
    changed = ("SELECT DISTINCT subject_id FROM mart.record_status"
               " WHERE version_id IN (SELECT version_id FROM temp_status_todo)")
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE temp_status_todo AS
        SELECT coalesce(n.version_id, o.version_id) AS version_id  -- new, or no longer current
        FROM (SELECT version_id FROM core.credit_record WHERE valid_to IS NULL) n
        FULL JOIN (SELECT version_id FROM mart.record_status) o ON o.version_id = n.version_id
        WHERE n.version_id IS NULL OR o.version_id IS NULL
        UNION
        SELECT version_id FROM mart.record_status
        WHERE status IN {in_list(DECIDED_STATUSES)}
           OR (record_date > {lo} AND record_date <= {hi})
           OR (display_max_end > {lo} AND display_max_end <= {hi})
           OR record_id IN (SELECT record_id FROM core.objection UNION SELECT record_id FROM core.repair)  -- nulls: no match
    """)
    conn.execute(f"CREATE OR REPLACE TEMP TABLE temp_status_merge AS {MERGES_SQL}")
    conn.execute("""
        INSERT INTO temp_status_todo
        SELECT version_id FROM core.credit_record
        WHERE valid_to IS NULL AND subject_id IN (
            SELECT subject_id FROM (FROM temp_status_merge EXCEPT FROM mart.record_status_merge)
            UNION SELECT subject_id FROM (FROM mart.record_status_merge EXCEPT FROM temp_status_merge))
    """)
    conn.execute("DELETE FROM mart.record_status_change")
    conn.execute(f"INSERT INTO mart.record_status_change {changed}")  # the subjects of the rows replaced ...
    conn.execute("""DELETE FROM mart.record_status
                    WHERE version_id IN (SELECT version_id FROM temp_status_todo)""")
    basis.swap_as_of(conn, "record_status", as_of)
    rows = _rows_where("version_id IN (SELECT version_id FROM temp_status_todo)")
    computed = conn.execute(f"INSERT INTO mart.record_status BY NAME {_status_sql(display, as_of, rows)}").fetchone()[0]
    conn.execute(f"INSERT INTO mart.record_status_change {changed} EXCEPT FROM mart.record_status_change")  # ... and new
    conn.execute("DROP TABLE temp_status_todo")
    conn.execute("DROP TABLE temp_status_merge")
    return computed


def build_record_status(conn, as_of: dt.date, rules: dict) -> int:
    """Create or bring up to date mart.record_status (and mart.repair_decision) for as_of; returns the number of
    rows computed. Runs inside the caller's transaction. The table is the same either way: one row per current
    record version, as a fresh computation gives it."""
    display = rules["display_periods"]
    build_repair_decisions(conn, as_of, display)
    build_objection_state(conn, as_of)
    query_md5 = _query_md5(display)
    conn.execute(UPDATE_DDL)
    stored_as_of = basis.stored(conn, "record_status", query_md5)
    if stored_as_of is None:
        conn.execute(f"CREATE OR REPLACE TABLE mart.record_status AS {_status_sql(display, as_of)}")
        conn.execute("DELETE FROM mart.record_status_change")
        computed = conn.execute("SELECT count(*) FROM mart.record_status").fetchone()[0]
    else:
        computed = _update_changed(conn, display, as_of, stored_as_of)
    conn.execute("DELETE FROM mart.record_status_merge")
    conn.execute(f"INSERT INTO mart.record_status_merge {MERGES_SQL}")
    basis.record(conn, "record_status", as_of, query_md5, changes_since=stored_as_of)
    log.info("record_status as of %s: %d rows computed (%s)", as_of, computed,
             "full" if stored_as_of is None else f"update from {stored_as_of}")
    return computed
