"""Display-period engine: repair and objection decisions, then mart.record_status as of a date.

Conventions (see data_contracts/rules/display_periods.yaml): periods run from the record date; every
``*_end`` date is exclusive (display_max_end is the first day not displayed; display_min_end the first
day a repair may be requested). Status precedence: future, deleted, repaired, not_displayed,
expired/removed, withheld, active.

The SQL is in lists/queries/: objection_state, repair_decision, display_base + record_status, and the DuckDB
update in place record_status_update(_end). This module renders the fragments the rules compile into
(``*_fragments``) and creates the display rule relations (``rule_statements``).
"""

from __future__ import annotations

import datetime as dt
import logging

from . import basis, engine, rule_tables, sqlfiles
from .sql import in_list, keyword_regex, lit, template

log = logging.getLogger(__name__)


def _all_in(types: list[str]) -> str:
    """SQL: every type of the category's list `t` is one of `types`."""
    return f"array_length(list_filter(t, lambda x: NOT (x IN {in_list(types)}))) = 0"


def _any_in(types: list[str]) -> str:
    return f"array_length(list_filter(t, lambda x: x IN {in_list(types)})) > 0"


def _category_columns(display: dict) -> str:
    """Per distinct penalty category (its types as list t): highest tier rank (unknown types -> default_tier) and
    the type tests the tier and period rules need."""
    rank = display["tier_rank"]
    cats = " ".join(f"WHEN {lit(k)} THEN {rank[v]}" for k, v in display["category_tiers"].items())
    proc, fine, special = display.get("minor_procedure") or {}, display.get("fine_tiers") or {}, display.get("special_serious") or {}
    return f"""list_max(list_transform(t, lambda x: CASE x {cats} ELSE {rank[display['default_tier']]} END)) AS cat_rank,
               {_all_in(proc.get('types', [])) if proc else 'FALSE'} AS proc_types,
               {_all_in(fine.get('minor_types', [])) if fine else 'FALSE'} AS fine_minor_types,
               {f"list_contains(t, {lit(fine['fine_type'])})" if fine else 'FALSE'} AS has_fine,
               {_any_in(special.get('types', [])) if special else 'FALSE'} AS special_types"""


def _payload_fields(display: dict) -> list[str]:
    """Payload fields of penalties the tier and period rules read, in a fixed order."""
    fields = []
    for f in ((display.get("minor_procedure") or {}).get("field"), (display.get("fine_tiers") or {}).get("field")):
        if f and f not in fields:
            fields.append(f)
    for f in (display.get("special_serious") or {}).get("behaviour_fields", []):
        if f not in fields:
            fields.append(f)
    for rule in display["penalty_rules"]:
        for cond in (rule.get("one_year_minimum") or {}).get("when", []):
            if cond.get("basis_patterns") and "penalty_basis" not in fields:
                fields.append("penalty_basis")
    return fields


def _field(display: dict, name: str) -> str:
    """SQL of one penalty payload field (pf: the list extracted once per penalty row)."""
    return f"pf[{_payload_fields(display).index(name) + 1}]"


def _tier_sql(display: dict) -> str:
    """severity_tier of a penalty: an explicit severity wins; else 简易程序 or a fine within the on-the-spot limits
    makes a decision of minor-eligible types minor; a fine at or above the serious threshold makes it serious;
    else the highest tier of its types."""
    rank = display["tier_rank"]
    by_rank = {v: k for k, v in rank.items()}
    explicit = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in display["severity_tiers"].items())
    to_tier = " ".join(f"WHEN {r} THEN {lit(t)}" for r, t in sorted(by_rank.items()))
    whens = []
    proc = display.get("minor_procedure")
    if proc:
        whens.append(f"WHEN proc_types AND {_field(display, proc['field'])} = {lit(proc['value'])} THEN 'minor'")
    fine = display.get("fine_tiers")
    if fine:
        amount = f"TRY_CAST({_field(display, fine['field'])} AS DOUBLE)"
        limit = "CASE WHEN subject_type = 'person' THEN {person} ELSE {org} END"
        if proc:
            blank = f"{_field(display, proc['field'])} IS NULL"
        else:
            blank = "TRUE"
        whens.append(f"WHEN fine_minor_types AND has_fine AND {blank} AND {amount} <= "
                     f"{limit.format(**{k: float(v) for k, v in fine['minor_max'].items()})} THEN 'minor'")
        whens.append(f"WHEN has_fine AND {amount} >= "
                     f"{limit.format(**{k: float(v) for k, v in fine['serious_min'].items()})} THEN 'serious'")
    derived = f"CASE {' '.join(whens)} ELSE CASE cat_rank {to_tier} END END"
    return f"coalesce(CASE explicit_severity {explicit} END, {derived})"


def _penalty_rule_sql(display: dict) -> str:
    whens = " ".join(
        f"WHEN r.record_date BETWEEN {lit(p['effective_from'])} AND {lit(p['effective_to'])} THEN {lit(p['id'])}"
        for p in display["penalty_rules"]
    )
    return f"CASE {whens} END"


def rule_titles(display: dict) -> dict[str, str]:
    """rule id -> Chinese title (penalty rules; other kinds' rule ids are their own)."""
    return {p["id"]: p["title"] for p in display["penalty_rules"]}


def _rule_title_sql(display: dict) -> str:
    whens = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in rule_titles(display).items())
    return f"CASE b.rule_id {whens} ELSE b.rule_id END"


def _kind_case(display: dict, key: str, default) -> str:
    """CASE over r.kind of one kind-parameter (non-penalty kinds)."""
    fallback = display.get("default_kind", {}).get(key, default)
    whens = " ".join(
        f"WHEN {lit(kind)} THEN {lit(spec.get(key, fallback))}" for kind, spec in display["kinds"].items()
    )
    return f"CASE r.kind {whens} ELSE {lit(fallback)} END"


def _term_months_sql(display: dict) -> str:
    """Default term in months of a non-penalty record: by category where the kind says so, by court situation
    (sit), else the kind's term_months (null: no automatic end)."""
    whens = []
    for kind, spec in display["kinds"].items():
        if spec.get("situations"):
            whens.append(
                f"WHEN {lit(kind)} THEN CASE WHEN r.record_date < {lit(spec['terms_from'])} OR sit.no_term THEN NULL"
                f" WHEN sit.n_match = 0 OR sit.n_match IS NULL THEN {int(spec['unknown_situation_months'])}"
                " ELSE sit.max_term END")
        elif spec.get("term_months_by_category"):
            inner = " ".join(f"WHEN {lit(c)} THEN {int(m)}" for c, m in spec["term_months_by_category"].items())
            whens.append(f"WHEN {lit(kind)} THEN CASE r.category {inner} ELSE {lit(spec.get('term_months'))} END")
    base = _kind_case(display, "term_months", None)
    return f"CAST(CASE r.kind {' '.join(whens)} ELSE {base} END AS INTEGER)" if whens else f"CAST({base} AS INTEGER)"


def _polarity_sql(display: dict) -> str:
    whens = []
    for kind, spec in display["kinds"].items():
        by_cat = spec.get("polarity_by_category")
        if by_cat:
            inner = " ".join(f"WHEN r.category IN {in_list(by_cat[p])} THEN {lit(p)}"
                             for p in ("bad", "good") if by_cat.get(p))
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


def _special_sql(display: dict) -> str:
    """527 特定严重失信: a penalty under one of the rules with a special type, in a named domain or with a named
    behaviour in one of the behaviour fields."""
    sp = display.get("special_serious")
    if not sp:
        return "FALSE"
    text = " || ' ' || ".join(f"coalesce({_field(display, f)}, '')" for f in sp.get("behaviour_fields", [])) or "''"
    behaviours = f"regexp_matches({text}, {keyword_regex(sp['behaviours'])})" if sp.get("behaviours") else "FALSE"
    return (f"(rule_id0 IN {in_list(sp['rules'])} AND coalesce(cat_special, FALSE)"
            f" AND (domain IN {in_list(sp.get('domains', []))} OR {behaviours}))")


def _one_year_sql(display: dict) -> str:
    """The rule whose one_year_minimum matches the penalty (domain or cited basis), else NULL."""
    whens = []
    for rule in display["penalty_rules"]:
        oym = rule.get("one_year_minimum")
        if not oym:
            continue
        conds = []
        for cond in oym["when"]:
            parts = []
            if cond.get("domains"):
                parts.append(f"domain IN {in_list(cond['domains'])}")
            if cond.get("basis_patterns"):
                parts.append(f"regexp_matches(coalesce({_field(display, 'penalty_basis')}, ''),"
                             f" {keyword_regex(cond['basis_patterns'])})")
            conds.append("(" + " AND ".join(parts or ["TRUE"]) + ")")
        whens.append(f"WHEN rule_id0 = {lit(rule['id'])} AND ({' OR '.join(conds)}) THEN {int(oym['min_months'])}")
    return f"CASE {' '.join(whens)} END" if whens else "CAST(NULL AS INTEGER)"


def base_fragments(display: dict, rows: str = "core.credit_record") -> dict[str, str]:
    """The rendered fragments of display_base.sql (see its header) for the record versions `rows`."""
    penalties = in_list(display["penalty_kinds"])
    fields = _payload_fields(display)
    pf = (f"json_extract_string(r.payload, [{', '.join(lit('$.' + f) for f in fields)}])" if fields
          else "CAST([] AS VARCHAR[])")
    return {
        "rows": rows, "penalty_kinds": penalties, "cat_columns": _category_columns(display),
        "cur_columns": f"""CASE WHEN r.kind IN {penalties} THEN {pf} END AS pf,
           CASE WHEN r.kind IN {penalties} THEN {_penalty_rule_sql(display)}
                ELSE {_kind_case(display, 'rule_id', 'default-term')} END AS rule_id0,
           {_polarity_sql(display)} AS polarity,
           {_term_end_sql(display)} AS term_end,
           {_kind_case(display, "end_date_role", "validity")} AS end_role,
           {_kind_case(display, 'end_date_inclusive', True)} AS end_inclusive,
           {_kind_case(display, 'end_status', 'expired')} AS end_status,
           {_kind_case(display, 'repairable', True)} AS kind_repairable,
           {_kind_case(display, 'min_months', 0)} AS kind_min_months,
           {_term_months_sql(display)} AS kind_term_months""",
        "tiered_columns": f"""CASE WHEN penalty THEN {_tier_sql(display)} END AS severity_tier,
           CASE WHEN penalty THEN coalesce({_special_sql(display)}, FALSE) ELSE FALSE END AS special,
           CASE WHEN penalty THEN {_one_year_sql(display)} END AS one_year_min""",
    }


def rule_statements(as_of: dt.date, display: dict) -> list[str]:
    """run_params and the relations of display_periods.yaml the display SQL files read."""
    special = display.get("special_serious") or {}
    return [
        rule_tables.run_params(as_of),
        f"CREATE OR REPLACE TEMP TABLE rule_display AS SELECT {int(special.get('months', 36))} AS special_months,"
        f" {lit(bool(special.get('repairable', True)))} AS special_repairable",
        rule_tables.relation(
            "rule_display_tier", [("rule_id", "VARCHAR"), ("tier", "VARCHAR"), ("min_months", "INTEGER"),
                                  ("max_months", "INTEGER"), ("displayed", "BOOLEAN")],
            [(p["id"], tier, t["min_months"], t["max_months"], t.get("displayed", True))
             for p in display["penalty_rules"] for tier, t in p["tiers"].items()]),
        rule_tables.relation(
            "rule_display_situation", [("kind", "VARCHAR"), ("phrase", "VARCHAR"), ("term_months", "INTEGER")],
            [(kind, s["match"], s.get("term_months"))
             for kind, spec in display["kinds"].items() for s in spec.get("situations") or []]),
    ]


def _base_sql(display: dict, rows: str = "core.credit_record") -> str:
    """Current record versions among `rows` (core.credit_record or a subset of its rows) with tier, rule and
    period parameters (one row per record), resolved subject: display_base.sql."""
    return sqlfiles.render("display_base", **base_fragments(display, rows))


def _outcome_words(mapping: dict, meaning: str) -> str:
    return in_list(k for k, v in mapping.items() if v == meaning)


def _decider_sql(repairs: dict) -> str:
    """SQL: the repair row's department may decide a repair of the record (b) under the deciders rule."""
    def cond(spec: dict) -> str:
        parts = []
        if spec.get("record_department"):
            parts.append("dep = b.department")
        if spec.get("departments"):
            parts.append(f"dep IN {in_list(spec['departments'])}")
        return "(" + " OR ".join(parts or ["FALSE"]) + ")"
    deciders = repairs["deciders"]
    whens = " ".join(f"WHEN {lit(k)} THEN {cond(v)}" for k, v in deciders.items() if k != "default")
    return f"CASE b.kind {whens} ELSE {cond(deciders.get('default', {}))} END"


REPAIR_FIELDS = ("obligation_fulfilled", "commitment_made", "training_and_report")


def _preconditions_sql(repairs: dict, key: str) -> str:
    """SQL list of {'id', 'message', 'unmet'} of the preconditions of repair row rp that apply to record b
    (their `rules` and `tiers`); message is the precondition's `key` text (message: unmet, met: met)."""
    items = []
    for pre in repairs["preconditions"]:
        check = pre["check"]
        if check == "min_period":
            unmet = "coalesce(rp.received_date, rp.decided_date) < b.display_min_end"
        else:
            if check["field"] not in REPAIR_FIELDS:
                raise ValueError(f"repairs.yaml precondition {pre['id']}: unknown field {check['field']}")
            unmet = f"coalesce(rp.{check['field']}, '') <> {lit(check['value'])}"
        msg = template(pre[key], date="strftime(b.display_min_end, '%Y-%m-%d')")
        applies = [f"b.rule_id IN {in_list(pre['rules'])}"] if pre.get("rules") else []
        if pre.get("tiers"):
            applies.append(f"b.severity_tier IN {in_list(pre['tiers'])}")
        when = " AND ".join(applies) or "TRUE"
        items.append(f"CASE WHEN {when} THEN {{'id': {lit(pre['id'])}, 'message': {msg}, 'unmet': {unmet}}} END")
    return f"list_filter([{', '.join(items)}], lambda x: x IS NOT NULL)" if items else "[]"


def _unmet_sql(repairs: dict) -> str:
    """SQL list of {'id', 'message', 'unmet'} of the unmet preconditions of repair row rp for record b."""
    return f"list_filter({_preconditions_sql(repairs, 'message')}, lambda x: x.unmet)"


def _met_sql(repairs: dict) -> str:
    """SQL: the `met` texts of the preconditions that apply to repair row rp for record b, joined by ，."""
    return f"array_to_string(list_transform({_preconditions_sql(repairs, 'met')}, lambda x: x.message), '，')"


def repair_fragments(display: dict, repairs: dict) -> dict[str, str]:
    """The rendered fragments of repair_decision.sql (see its header)."""
    keys = ("unmatched", "special_serious", "not_repairable", "wrong_decider", "decided_refuse", "unmet", "pending",
            "granted")  # the reason keys repair_decision.sql gives
    texts = {k: repairs["repair_reasons"][k] for k in keys}
    by_kind = repairs["repair_reasons"].get("not_repairable_by_kind") or {}

    def t(text: str) -> str:
        return template(text, rule_title="rule_title", rule_id="rule_id", department="department",
                        record_department="record_department", met="met",
                        unmet="array_to_string(list_transform(unmet, lambda u: u.message), '；')")
    kinds = " ".join(f"WHEN reason_key = 'not_repairable' AND record_kind = {lit(k)} THEN {t(v)}"
                     for k, v in by_kind.items())
    title = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in rule_titles(display).items())
    return {
        "base": _base_sql(display, "temp_repair_rows"), "decider_ok": _decider_sql(repairs),
        "grant_words": _outcome_words(repairs["repair_outcomes"], "grant"),
        "unmet": _unmet_sql(repairs), "met": _met_sql(repairs), "rule_title": f"CASE b.rule_id {title} ELSE b.rule_id END",
        "reason_text": f"CASE {kinds} ELSE {_reason_case('reason_key', texts, t)} END" if kinds
                       else _reason_case("reason_key", texts, t),
    }


def build_repair_decisions(conn, as_of: dt.date, display: dict, repairs: dict) -> None:
    """mart.repair_decision for as_of from core.repair and the targeted records (repair_decision.sql); on DuckDB,
    mirror the status into core.repair.

    A repair is granted only when the department deciding it may decide for the record (deciders), the outcome
    word means grant, the record is repairable and every precondition of the rule in force holds; each unmet
    precondition is listed with the record's display rule id."""
    rule_tables.create(conn, rule_statements(as_of, display))
    # the rows once: the display base reads them three times
    conn.execute("CREATE OR REPLACE TEMP TABLE temp_repair_rows AS "
                 + _rows_where("record_id IN (SELECT record_id FROM core.repair)"))
    conn.execute("CREATE OR REPLACE TABLE mart.repair_decision AS "
                 + sqlfiles.statements("repair_decision", **repair_fragments(display, repairs))[0])
    conn.execute("DROP TABLE temp_repair_rows")
    if engine.writes_core(conn):
        mirror_repair_status(conn)


def mirror_repair_status(conn) -> None:
    """Copy each repair's decided status and reason from mart.repair_decision into core.repair (the warehouse;
    after a Spark build, once its marts are back in the warehouse: engines/marts.py)."""
    conn.execute("""
        UPDATE core.repair SET status = d.status, status_reason = d.status_reason
        FROM mart.repair_decision d
        WHERE d.repair_id = core.repair.repair_id
          AND (core.repair.status IS DISTINCT FROM d.status
               OR core.repair.status_reason IS DISTINCT FROM d.status_reason)
    """)


def objection_fragments(repairs: dict) -> dict[str, str]:
    """The rendered fragment of objection_state.sql (see its header)."""
    def t(text: str) -> str:
        return template(text, received="strftime(received_date, '%Y-%m-%d')", outcome="outcome")
    return {"reason_text": _reason_case("reason_key", repairs["objection_reasons"], t)}


def build_objection_state(conn, as_of: dt.date, repairs: dict) -> None:
    """temp_objection_state: per record, as of the date: deleted date, pending-since date (no outcome yet, or
    decided after the date) and the date a correction (更正) was decided; and mart.objection_decision, one row
    per objection with its meaning (objection_state.sql)."""
    rule_tables.create(conn, [
        rule_tables.run_params(as_of),
        rule_tables.relation("rule_objection_outcome", [("word", "VARCHAR"), ("meaning", "VARCHAR")],
                             repairs["objection_outcomes"].items()),
    ])
    sqlfiles.run(conn, "objection_state", **objection_fragments(repairs))


# Columns of mart.record_status (as_of last: a nightly run replaces that column, see _update_changed).
STATUS_COLUMNS = (
    "record_id", "version_id", "kind", "domain", "subject_id", "subject_type", "subject_name", "department",
    "record_date", "end_date", "category", "polarity", "severity_tier", "rule_id", "display_min_end",
    "display_max_end", "status", "status_reason", "file_name", "sheet", "excel_row", "as_of",
)
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
def _rows_where(condition: str) -> str:
    """The current core.credit_record rows matching `condition` (a relation for _base_sql)."""
    return f"(SELECT * FROM core.credit_record WHERE valid_to IS NULL AND {condition})"


def _reason_case(key: str, texts: dict[str, str], render) -> str:
    """CASE over the column `key` giving each key's text (a template rendered by `render`)."""
    return f"CASE {key} " + " ".join(f"WHEN {lit(k)} THEN {render(v)}" for k, v in texts.items()) + " END"


def status_fragments(display: dict, rows: str = "core.credit_record") -> dict[str, str]:
    """The rendered fragments of record_status.sql (see its header)."""
    day = "strftime({}, '%Y-%m-%d')"

    def t(text: str) -> str:
        return template(text, record_date=day.format("b.record_date"), deleted_on=day.format("b.deleted_on"),
                        repaired_on=day.format("b.repaired_on"), rule_title=_rule_title_sql(display),
                        end_date=day.format("b.end_date"), last_day=day.format("b.display_max_end - 1"),
                        pending_since=day.format("b.pending_since"), corrected_on=day.format("b.corrected_on"))
    return {"base": _base_sql(display, rows), "reason_text": _reason_case("b.reason_key", display["status_reasons"], t)}


def _status_sql(display: dict, rows: str = "core.credit_record") -> str:
    """One row per current record version (among `rows`): its display parameters and its status as of
    run_params.as_of (record_status.sql)."""
    return sqlfiles.render("record_status", **status_fragments(display, rows))


def _query_md5(display: dict) -> str:
    """Fingerprint of the status query: it changes with the display rules and with the SQL files."""
    return basis.md5(_status_sql(display) + "".join(rule_statements(dt.date.min, display)[1:]))


def _update_changed(conn, display: dict, as_of: dt.date, stored_as_of: dt.date) -> int:
    """Bring mart.record_status from stored_as_of to as_of by recomputing only the rows whose status can differ
    (record_status_update.sql, record_status.sql over those rows, record_status_update_end.sql); returns their
    number. Everything else in a status is fixed by the version and the rules, which the basis fingerprint pins."""
    lo, hi = sorted((stored_as_of, as_of))
    conn.execute(f"CREATE OR REPLACE TEMP TABLE status_update_params AS SELECT {lit(lo)} AS lo, {lit(hi)} AS hi")
    conn.execute("CREATE OR REPLACE TEMP TABLE temp_status_merge AS " + sqlfiles.text("record_status_merges"))
    sqlfiles.run(conn, "record_status_update")
    basis.swap_as_of(conn, "record_status", as_of)
    computed = conn.execute(f"INSERT INTO mart.record_status BY NAME {_status_sql(display, 'temp_status_rows')}"
                            ).fetchone()[0]
    sqlfiles.run(conn, "record_status_update_end")
    return computed


def build_record_status(conn, as_of: dt.date, rules: dict) -> int:
    """Create or bring up to date mart.record_status (and mart.repair_decision) for as_of; returns the number of
    rows computed. Runs inside the caller's transaction. The table is the same either way: one row per current
    record version, as a fresh computation gives it. The update in place (_update_changed) is DuckDB's
    (engine.incremental); another engine computes the table anew."""
    display, repairs = rules["display_periods"], rules["repairs"]
    rule_tables.create(conn, rule_statements(as_of, display))
    build_repair_decisions(conn, as_of, display, repairs)
    build_objection_state(conn, as_of, repairs)
    if not engine.incremental(conn):  # another engine: the full rebuild, nothing kept for an update
        conn.execute(f"CREATE OR REPLACE TABLE mart.record_status AS {_status_sql(display)}")
        return conn.execute("SELECT count(*) FROM mart.record_status").fetchone()[0]
    query_md5 = _query_md5(display)
    conn.execute(UPDATE_DDL)
    stored_as_of = basis.stored(conn, "record_status", query_md5)
    if stored_as_of is None:
        conn.execute(f"CREATE OR REPLACE TABLE mart.record_status AS {_status_sql(display)}")
        conn.execute("DELETE FROM mart.record_status_change")
        computed = conn.execute("SELECT count(*) FROM mart.record_status").fetchone()[0]
    else:
        computed = _update_changed(conn, display, as_of, stored_as_of)
    conn.execute("DELETE FROM mart.record_status_merge")
    conn.execute("INSERT INTO mart.record_status_merge " + sqlfiles.text("record_status_merges"))
    basis.record(conn, "record_status", as_of, query_md5, changes_since=stored_as_of)
    log.info("record_status as of %s: %d rows computed (%s)", as_of, computed,
             "full" if stored_as_of is None else f"update from {stored_as_of}")
    return computed
