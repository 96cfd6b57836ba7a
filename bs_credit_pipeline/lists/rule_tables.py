"""The run's parameters and the list rules as small relations the SQL files of lists/queries/ read.

``run_params`` (one row: as_of) and the ``rule_*`` relations are temp tables created by plain SQL statements
(``CREATE OR REPLACE TEMP TABLE ... AS SELECT ... FROM (VALUES ...)``) sent through ``conn.execute``, so every
engine can create them. To run a SQL file by hand, print them first:

    python -m bs_credit_pipeline.lists.rule_tables --as-of 2026-07-01 > prelude.sql
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from collections.abc import Iterable, Sequence

from .sql import lit


def _values(rows: Iterable[Sequence]) -> str:
    """The rows of a VALUES list: (a, b), (c, d) as SQL literals."""
    return ", ".join("(" + ", ".join(lit(v) for v in row) + ")" for row in rows)


def relation(name: str, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence]) -> str:
    """CREATE OR REPLACE TEMP TABLE name with typed columns [(name, SQL type)] holding rows (may be none)."""
    rows = list(rows)
    if rows:
        body = _values(rows)
        select = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in columns)
        source = f"FROM (VALUES {body}) AS v({', '.join(c for c, _ in columns)})"
    else:
        select = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in columns)
        source = "WHERE FALSE"
    return f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {select} {source}"


def months_before(as_of: dt.date, months: int) -> str:
    """SQL of the date `months` months before as_of (the end of a shorter month when the day is missing)."""
    return f"CAST({lit(as_of)} - INTERVAL '{int(months)}' MONTH AS DATE)"


def run_params(as_of: dt.date) -> str:
    return f"CREATE OR REPLACE TEMP TABLE run_params AS SELECT {lit(as_of)} AS as_of"


def check_template(text: str, known: Iterable[str]) -> str:
    """A Chinese text template of rule data whose ``{name}`` placeholders the SQL fills with replace()."""
    unknown = set(re.findall(r"\{(\w+)\}", text)) - set(known)
    if unknown:
        raise KeyError(f"text {text!r}: unknown placeholder {{{sorted(unknown)[0]}}} (known: {', '.join(sorted(known))})")
    return text


def list_statements(as_of: dt.date, rules: dict) -> list[str]:
    """run_params and the relations of lists.yaml and measures.yaml (sanction, reward and change lists)."""
    lists = rules["lists"]
    texts = lists["texts"]
    red, green = lists["red_list"], lists["green_channel"]
    good, vol, clean = red["good_record"], red["volunteer"], green["clean_history"]
    sets = {
        "red_list.blocking_statuses": red["blocking_statuses"],
        "red_list.good_record.kinds": good["kinds"],
        "red_list.volunteer.excluded_statuses": vol["excluded_statuses"],
        "green_channel.clean_history.blocking_statuses": clean["blocking_statuses"],
        "green_channel.clean_history.ignored_statuses": clean["ignored_statuses"],
    }
    watch = lists["watch_list"]
    return [
        run_params(as_of),
        relation("rule_black_list", [("rule_id", "VARCHAR"), ("kind", "VARCHAR"), ("list_name", "VARCHAR")],
                 [(b["id"], b["kind"], b["list_name"]) for b in lists["black_list"]]),
        relation("rule_measure", [("measure_id", "VARCHAR"), ("measure", "VARCHAR"), ("department", "VARCHAR"),
                                  ("list_type", "VARCHAR"), ("role", "VARCHAR")],
                 [(m["id"], m["name"], m["department"], lst, role)
                  for m in rules["measures"]["measures"] for lst in m["lists"] for role in m["applies_to"]]),
        relation("rule_watch_look", [("rule_id", "VARCHAR"), ("keyword", "VARCHAR")],
                 [(r["id"], k) for r in watch["rules"] for k in r.get("look_alike", [])]),
        relation("rule_value_set", [("name", "VARCHAR"), ("value", "VARCHAR")],
                 [(name, v) for name, values in sets.items() for v in values]),
        relation("rule_text", [("name", "VARCHAR"), ("text", "VARCHAR")], [
            ("measure_roles.subject", texts["measure_roles"]["subject"]),
            ("measure_roles.legal_rep", texts["measure_roles"]["legal_rep"]),
            *((k, texts[k]) for k in ("red_basis_good_record", "red_basis_volunteer", "green_basis_red_list",
                                      "added", "record_lost", "disqualified")),
            ("green_basis_clean", check_template(texts["green_basis_clean"], ("years", "first_date"))),
        ]),
        relation("rule_removal_reason", [("ord", "INTEGER"), ("status", "VARCHAR"), ("reason", "VARCHAR"),
                                         ("text", "VARCHAR")],
                 [(i, status, code, txt) for i, (status, code, txt) in enumerate(texts["removal_reasons"])]),
        f"""CREATE OR REPLACE TEMP TABLE rule_red_list AS
            SELECT {lit(good['id'])} AS good_rule_id, {lit(vol['id'])} AS volunteer_rule_id,
                   {lit(vol['kind'])} AS volunteer_kind, {lit('$.' + vol['hours_field'])} AS hours_path,
                   {months_before(as_of, vol['window_months'])} AS volunteer_since,
                   CAST({float(vol['min_hours'])} AS DOUBLE) AS min_hours""",
        f"""CREATE OR REPLACE TEMP TABLE rule_green_channel AS
            SELECT {lit(green['from_red_list']['id'])} AS red_rule_id, {lit(clean['id'])} AS clean_rule_id,
                   {int(clean['years'])} AS clean_years,
                   {months_before(as_of, 12 * int(clean['years']))} AS clean_since""",
        f"CREATE OR REPLACE TEMP TABLE rule_list_change AS"
        f" SELECT {int(lists.get('snapshot_retention', 10))} AS snapshot_retention",
    ]


def points_statements(as_of: dt.date, rules: dict) -> list[str]:
    """run_params and the relations of points.yaml (lists/queries/integrity_score.sql)."""
    vol = rules["volunteer"]
    matches = []  # one row per (rule, keyword); ord gives first-match priority (additions, then deductions)
    for section, specs in (("addition", rules["additions"]["rules"]), ("deduction", rules["deductions"]["rules"])):
        for spec in specs:
            for keyword in spec.get("match") or [None]:
                matches.append((len(matches), spec["id"], spec["title"], spec["kind"], spec.get("severity_tier"),
                                keyword, int(spec["points"]), section))
    mins = sorted(int(g["min"]) for g in rules["grades"] if g.get("min") is not None)

    def next_min(g):  # the grade reaches up to the next higher minimum (exclusive)
        above = [m for m in mins if g.get("min") is None or m > int(g["min"])]
        return above[0] if above else None
    return [
        run_params(as_of),
        f"""CREATE OR REPLACE TEMP TABLE rule_points AS
            SELECT {lit(rules['rule_id'])} AS rule_id, {int(rules['base'])} AS base,
                   {int(rules['min_score'])} AS min_score, {int(rules['additions']['cap'])} AS add_cap,
                   {lit(vol['id'])} AS volunteer_rule, {lit(vol['title'])} AS volunteer_title,
                   {lit(vol['kind'])} AS volunteer_kind, {lit('$.' + vol['hours_field'])} AS hours_path,
                   {months_before(as_of, vol['window_months'])} AS volunteer_since,
                   {int(vol['cap'])} AS volunteer_cap, CAST({float(vol['hours_per_step'])} AS DOUBLE) AS hours_per_step,
                   {int(vol['points_per_step'])} AS points_per_step""",
        relation("rule_points_status", [("status", "VARCHAR")], [(s,) for s in rules["statuses"]]),
        relation("rule_points_match", [("ord", "BIGINT"), ("rule", "VARCHAR"), ("title", "VARCHAR"),
                                       ("kind", "VARCHAR"), ("severity_tier", "VARCHAR"), ("keyword", "VARCHAR"),
                                       ("points", "BIGINT"), ("section", "VARCHAR")], matches),
        relation("rule_points_grade", [("grade", "VARCHAR"), ("min_score", "INTEGER"), ("next_min", "INTEGER")],
                 [(g["grade"], g.get("min"), next_min(g)) for g in rules["grades"]]),
    ]


def insert_rows(conn, table: str, columns: Sequence[tuple[str, str]], rows: Iterable[dict], chunk: int = 500) -> int:
    """INSERT rows computed in Python into `table` as VALUES statements (any engine runs them), each value cast
    to its column's SQL type [(name, type)]; returns the rows inserted."""
    rows = list(rows)
    names = ", ".join(c for c, _ in columns)
    select = ", ".join(f"CAST({c} AS {t})" for c, t in columns)
    for start in range(0, len(rows), chunk):
        body = _values([r[c] for c, _ in columns] for r in rows[start:start + chunk])
        conn.execute(f"INSERT INTO {table} ({names}) SELECT {select} FROM (VALUES {body}) AS v({names})")
    return len(rows)


def create(conn, statements: Iterable[str]) -> None:
    for statement in statements:
        conn.execute(statement)


def main(argv: list[str] | None = None) -> None:
    from .rules import load_rules

    parser = argparse.ArgumentParser(description="Print the SQL creating run_params and the rule relations.")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--rules", help="rules directory (default: data_contracts/rules)")
    args = parser.parse_args(argv)
    for statement in list_statements(args.as_of, load_rules(args.rules)):
        print(statement.strip() + ";")


if __name__ == "__main__":
    main()
