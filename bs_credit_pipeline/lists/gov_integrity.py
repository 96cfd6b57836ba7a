"""Government-affairs integrity (政务诚信) evaluation and early warning.

-> mart.gov_integrity (latest evaluation), mart.gov_integrity_history (one evaluation per as_of, so the
previous one is available) and mart.gov_warning (red: a body on a black list; orange/yellow: a county's
score fell since the latest earlier evaluation). Rules: data_contracts/rules/gov_integrity.yaml.
The government records are few (bodies, their staff), so scoring runs in Python over one SQL read
(lists/queries/gov_integrity_records.sql; gov_integrity_bodies.sql, gov_integrity_previous.sql).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .. import yamlfile
from . import rule_tables, sqlfiles
from .sql import in_list, lit

DEFAULT_RULES = Path(__file__).resolve().parents[2] / "data_contracts" / "rules" / "gov_integrity.yaml"

EVALUATION_COLUMNS = """
    as_of          DATE NOT NULL,
    evaluated_id   VARCHAR NOT NULL,   -- body USCC or 6-digit division code
    evaluated_type VARCHAR NOT NULL,   -- body | county
    name           VARCHAR NOT NULL,
    division_code  VARCHAR,
    score          DOUBLE NOT NULL,
    stars          VARCHAR NOT NULL,   -- ★★★★★ ... ★ (gov_integrity.yaml)
    rank           INTEGER,            -- bodies: city-wide within their level (city / county);
                                       -- counties: among ranked counties
    indicators     JSON NOT NULL,      -- [{id, title, value, points, records: [{record_id, kind, department,
                                       --   file_name, sheet, excel_row, category, record_date}]}]
    rule_id        VARCHAR NOT NULL
"""
DDL = [
    f"CREATE TABLE IF NOT EXISTS mart.gov_integrity ({EVALUATION_COLUMNS})",
    f"CREATE TABLE IF NOT EXISTS mart.gov_integrity_history ({EVALUATION_COLUMNS})",
    """CREATE TABLE IF NOT EXISTS mart.gov_warning (
        as_of        DATE NOT NULL,
        evaluated_id VARCHAR NOT NULL,
        name         VARCHAR NOT NULL,
        level        VARCHAR NOT NULL,   -- red | orange | yellow
        warning_type VARCHAR NOT NULL,   -- listed_dishonest_debtor | listed_serious_dishonesty | score_drop
        message      VARCHAR NOT NULL,   -- Chinese
        reasons      JSON NOT NULL,      -- [{record_id, kind, department, file_name, sheet, excel_row, rule, ...}]
        rule_id      VARCHAR NOT NULL
    )""",
]
# the tables' columns, as in DDL (rows are computed in Python and inserted with rule_tables.insert_rows)
COLUMNS = [("as_of", "DATE"), ("evaluated_id", "VARCHAR"), ("evaluated_type", "VARCHAR"), ("name", "VARCHAR"),
           ("division_code", "VARCHAR"), ("score", "DOUBLE"), ("stars", "VARCHAR"), ("rank", "INTEGER"),
           ("indicators", "JSON"), ("rule_id", "VARCHAR")]
WARNING_COLUMNS = [("as_of", "DATE"), ("evaluated_id", "VARCHAR"), ("name", "VARCHAR"), ("level", "VARCHAR"),
                   ("warning_type", "VARCHAR"), ("message", "VARCHAR"), ("reasons", "JSON"), ("rule_id", "VARCHAR")]

@dataclass
class Evaluated:
    """One evaluated body or county and the counted records per indicator id."""
    evaluated_id: str
    evaluated_type: str
    name: str
    division_code: str | None
    records: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))


def load_rules(path: str | Path | None = None) -> dict:
    """Read gov_integrity.yaml (default: data_contracts/rules/gov_integrity.yaml of this repository)."""
    return yamlfile.read(path or DEFAULT_RULES)


def _is_body(subject_id: str | None, rules: dict) -> bool:
    return bool(subject_id) and len(subject_id) == 18 and subject_id.startswith(rules["body_prefix"])


def _division(code: str | None, rules: dict) -> str | None:
    return rules.get("division_aliases", {}).get(code, code) if code else None


def _indicator(row: dict, rules: dict) -> dict | None:
    """First indicator matching the record's kind and category keywords."""
    for ind in rules["indicators"]:
        keywords = ind.get("match")
        if ind["kind"] == row["kind"] and (not keywords or any(k in (row["category"] or "") for k in keywords)):
            return ind
    return None


def _provenance(row: dict) -> dict:
    return {"record_id": row["record_id"], "kind": row["kind"], "department": row["department"],
            "file_name": row["file_name"], "sheet": row["sheet"], "excel_row": row["excel_row"],
            "category": row["category"],
            "record_date": row["record_date"].isoformat() if row["record_date"] else None}


def record_fragments(rules: dict) -> dict[str, str]:
    """The rendered fragments of gov_integrity_records.sql (see its header)."""
    kinds = {i["kind"] for i in rules["indicators"]} | {w["kind"] for w in rules["warnings"]["red"]}
    return {
        "kinds": in_list(sorted(kinds)),
        "employer_kinds": in_list(sorted({i["kind"] for i in rules["indicators"] if i.get("via") == "employer"})),
        "body_prefix": lit(rules["body_prefix"]), "division_field": lit(rules["division_field"]),
        "division_path": lit("$." + rules["division_field"]), "employer_path": lit("$." + rules["employer_field"]),
        "employer_name_path": lit("$." + rules["employer_name_field"]),
    }


def _read(conn, rules: dict) -> list[dict]:
    cur = sqlfiles.run(conn, "gov_integrity_records", **record_fragments(rules))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _evaluated(conn, rows: list[dict], rules: dict) -> tuple[dict[str, Evaluated], dict[str, Evaluated]]:
    """Bodies seen anywhere (core.subject, records, employers) and the configured counties."""
    names: dict[str, str] = {}
    for sid, name in sqlfiles.run(conn, "gov_integrity_bodies").fetchall():
        names[sid] = name
    for row in reversed(rows):  # latest record's name wins after core.subject
        if row["subject_type"] == "org" and _is_body(row["subject_id"], rules):
            names.setdefault(row["subject_id"], row["subject_name"])
    for row in reversed(rows):
        if _is_body(row["employer"], rules):
            names.setdefault(row["employer"], row["employer_name"] or row["employer"])
    bodies = {sid: Evaluated(sid, "body", name, _division(sid[2:8], rules)) for sid, name in sorted(names.items())}
    counties = {c["code"]: Evaluated(c["code"], "county", c["name"], c["code"]) for c in rules["counties"]}
    return bodies, counties


def _attribute(rows, bodies, counties, rules) -> None:
    """Put every counted record under its indicator for its body and county."""
    for row in rows:
        ind = _indicator(row, rules) if row["status"] in rules["statuses"] else None
        if ind is None:
            continue
        body_id = row["employer"] if ind.get("via") == "employer" else row["subject_id"]
        body = bodies.get(body_id) if ind.get("via") == "employer" or row["subject_type"] == "org" else None
        county = counties.get(_division(row["division"], rules) or (body.division_code if body else None))
        for target in (body, county):
            if target is not None:
                target.records[ind["id"]].append(_provenance(row))


def _score(ev: Evaluated, rules: dict) -> tuple[float, list[dict]]:
    indicators, total = [], float(rules["base"])
    for ind in rules["indicators"]:
        records = ev.records.get(ind["id"], [])
        raw = len(records) * ind["points_each"]
        points = max(raw, ind["cap"]) if ind["points_each"] < 0 else min(raw, ind["cap"])
        total += points
        indicators.append({"id": ind["id"], "title": ind["title"], "value": len(records), "points": points,
                           "records": records})
    low, high = rules["score_range"]
    return round(min(max(total, low), high), 2), indicators


def _stars(score: float, rules: dict) -> str:
    return next(s["stars"] for s in rules["stars"] if s.get("min") is None or score >= s["min"])


def _rank(rows: list[dict], key) -> None:
    """Competition rank (1, 1, 3) by score within each group; rows with key None stay unranked."""
    groups = defaultdict(list)
    for row in rows:
        if key(row) is not None:
            groups[key(row)].append(row)
    for group in groups.values():
        group.sort(key=lambda r: -r["score"])
        for i, row in enumerate(group):
            row["rank"] = group[i - 1]["rank"] if i and group[i - 1]["score"] == row["score"] else i + 1


def _evaluate(as_of, bodies, counties, rules) -> list[dict]:
    out = []
    unranked = {c["code"] for c in rules["counties"] if c.get("ranked") is False}
    for ev in [*bodies.values(), *counties.values()]:
        score, indicators = _score(ev, rules)
        out.append({"as_of": as_of, "evaluated_id": ev.evaluated_id, "evaluated_type": ev.evaluated_type,
                    "name": ev.name, "division_code": ev.division_code, "score": score,
                    "stars": _stars(score, rules), "rank": None, "indicators": indicators,
                    "rule_id": rules["rule_id"]})
    # bodies are ranked across the city within their level: the city's own (division not ranked among the
    # counties, 市本级) and the counties' (all five counties' bodies together)
    _rank(out, lambda r: ("body", "city" if r["division_code"] in unranked else "county")
          if r["evaluated_type"] == "body" else None)
    _rank(out, lambda r: "county" if r["evaluated_type"] == "county" and r["evaluated_id"] not in unranked
          else None)
    return out


def _red_warnings(as_of, rows, bodies, rules) -> list[dict]:
    out = []
    for spec in rules["warnings"]["red"]:
        hits = defaultdict(list)
        for row in rows:
            if (row["kind"] == spec["kind"] and row["status"] in rules["statuses"]
                    and row["subject_type"] == "org" and row["subject_id"] in bodies):
                hits[row["subject_id"]].append(_provenance(row) | {"rule": spec["warning_type"]})
        for body_id, reasons in sorted(hits.items()):
            name = bodies[body_id].name
            out.append({"as_of": as_of, "evaluated_id": body_id, "name": name, "level": "red",
                        "warning_type": spec["warning_type"],
                        "message": rules["warnings"]["red_message"].format(
                            name=name, list_name=spec["list_name"], count=len(reasons)),
                        "reasons": reasons, "rule_id": rules["rule_id"]})
    return out


def _previous(conn) -> dict[str, dict]:
    """County rows of the latest stored evaluation before as_of."""
    return {eid: {"score": score, "indicators": json.loads(ind)}
            for eid, score, ind in sqlfiles.run(conn, "gov_integrity_previous").fetchall()}


def _drop_reasons(previous: list[dict], current: list[dict]) -> list[dict]:
    """Records that entered or left each indicator whose points fell."""
    before = {i["id"]: i for i in previous}
    reasons = []
    for ind in current:
        old = before.get(ind["id"], {"points": 0, "records": []})
        if ind["points"] >= old["points"]:
            continue
        change = {"rule": ind["id"], "title": ind["title"], "previous_points": old["points"],
                  "points": ind["points"]}
        old_ids = {r["record_id"] for r in old["records"]}
        new_ids = {r["record_id"] for r in ind["records"]}
        entries = ([r | change | {"change": "added"} for r in ind["records"] if r["record_id"] not in old_ids]
                   + [r | change | {"change": "dropped"} for r in old["records"] if r["record_id"] not in new_ids])
        reasons.extend(entries or [{"record_id": None} | change | {"change": "rule"}])
    return reasons


def _drop_warnings(as_of, evaluation, previous, rules) -> list[dict]:
    spec, out = rules["warnings"]["score_drop"], []
    for row in evaluation:
        prev = previous.get(row["evaluated_id"]) if row["evaluated_type"] == "county" else None
        if prev is None:
            continue
        drop = round(prev["score"] - row["score"], 2)
        level = next((lv for lv in spec["levels"] if drop >= lv["min_drop"]), None)
        if level is None:
            continue
        out.append({"as_of": as_of, "evaluated_id": row["evaluated_id"], "name": row["name"],
                    "level": level["level"], "warning_type": spec["warning_type"],
                    "message": spec["message"].format(
                        name=row["name"], previous=f"{prev['score']:g}", score=f"{row['score']:g}", drop=f"{drop:g}",
                        level=level["title"], min_drop=f"{level['min_drop']:g}"),
                    "reasons": _drop_reasons(prev["indicators"], row["indicators"]),
                    "rule_id": rules["rule_id"]})
    return out


def _insert(conn, table: str, rows: list[dict], columns: list[tuple[str, str]], json_column: str) -> None:
    rule_tables.insert_rows(conn, table, columns, [
        {c: (json.dumps(r[c], ensure_ascii=False) if c == json_column else r[c]) for c, _ in columns} for r in rows])


def build(conn, as_of: date, rules: dict) -> int:
    """Evaluate bodies and counties as of `as_of`, store the evaluation and its warnings.

    Replaces mart.gov_integrity and mart.gov_warning, and the as_of slice of mart.gov_integrity_history;
    returns the evaluation rows plus the warning rows written.
    """
    for ddl in DDL:
        conn.execute(ddl)
    rule_tables.create(conn, [rule_tables.run_params(as_of), f"CREATE OR REPLACE TEMP TABLE rule_gov_integrity AS"
                              f" SELECT {lit(rules['body_prefix'])} AS body_prefix"])
    rows = _read(conn, rules)
    bodies, counties = _evaluated(conn, rows, rules)
    _attribute(rows, bodies, counties, rules)
    evaluation = _evaluate(as_of, bodies, counties, rules)
    warnings = (_red_warnings(as_of, rows, bodies, rules)
                + _drop_warnings(as_of, evaluation, _previous(conn), rules))
    conn.execute("DELETE FROM mart.gov_integrity")
    conn.execute("DELETE FROM mart.gov_integrity_history WHERE as_of = ?", [as_of])
    conn.execute("DELETE FROM mart.gov_warning")
    for table in ("mart.gov_integrity", "mart.gov_integrity_history"):
        _insert(conn, table, evaluation, COLUMNS, "indicators")
    _insert(conn, "mart.gov_warning", warnings, WARNING_COLUMNS, "reasons")
    return len(evaluation) + len(warnings)
