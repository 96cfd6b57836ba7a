"""Department scorecard -> mart.department_scorecard: per department and month, did it submit, on time,
with how many rows loaded and rejected, and which errors. Reads ops.submission and ops.rejected_row,
the department registry (data_contracts/departments.yaml) and data_contracts/rules/scorecard.yaml.
The reads are lists/queries/scorecard_files.sql and scorecard_errors.sql; the few rows (departments x months)
are computed in Python.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

from .. import yamlfile
from . import rule_tables, sqlfiles

CONTRACTS = Path(__file__).resolve().parents[2] / "data_contracts"
DEFAULT_RULES = CONTRACTS / "rules" / "scorecard.yaml"

DDL = """
CREATE TABLE IF NOT EXISTS mart.department_scorecard (
    as_of           DATE NOT NULL,
    department      VARCHAR NOT NULL,  -- registry code
    department_name VARCHAR NOT NULL,
    month           VARCHAR NOT NULL,  -- YYYY-MM (the data month)
    status          VARCHAR NOT NULL,  -- on_time | late | rejected | missing | pending
    submitted       BOOLEAN NOT NULL,  -- any file received for the month
    on_time         BOOLEAN,           -- null while the deadline has not passed and nothing was delivered
    deadline        DATE NOT NULL,
    delivered_at    TIMESTAMP,         -- first file not rejected as a whole, Asia/Shanghai local time
    days_late       INTEGER,
    files           INTEGER NOT NULL,  -- current files (not superseded)
    files_rejected  INTEGER NOT NULL,  -- current files rejected as a whole
    rows_read       BIGINT NOT NULL,
    rows_loaded     BIGINT NOT NULL,
    rows_rejected   BIGINT NOT NULL,
    reject_rate     DOUBLE,            -- rows_rejected / rows_read; 1 when every file was rejected
                                       -- as a whole; null when nothing was received
    top_errors      JSON NOT NULL,     -- [{code, count}] of error rows, most frequent first
    file_rejections JSON NOT NULL,     -- [{file_name, code, message, received_at}]
    note            VARCHAR NOT NULL,  -- Chinese
    rule_id         VARCHAR NOT NULL
)
"""
# the table's columns, as in DDL (rows are computed in Python and inserted with rule_tables.insert_rows)
COLUMNS = [
    ("as_of", "DATE"), ("department", "VARCHAR"), ("department_name", "VARCHAR"), ("month", "VARCHAR"),
    ("status", "VARCHAR"), ("submitted", "BOOLEAN"), ("on_time", "BOOLEAN"), ("deadline", "DATE"),
    ("delivered_at", "TIMESTAMP"), ("days_late", "INTEGER"), ("files", "INTEGER"), ("files_rejected", "INTEGER"),
    ("rows_read", "BIGINT"), ("rows_loaded", "BIGINT"), ("rows_rejected", "BIGINT"), ("reject_rate", "DOUBLE"),
    ("top_errors", "JSON"), ("file_rejections", "JSON"), ("note", "VARCHAR"), ("rule_id", "VARCHAR"),
]


def load_rules(path: str | Path | None = None) -> dict:
    """Read scorecard.yaml (default: data_contracts/rules/scorecard.yaml of this repository)."""
    return yamlfile.read(path or DEFAULT_RULES)


def _departments(rules: dict) -> dict[str, str]:
    """Registry code -> name, from the departments file named by the rules."""
    path = CONTRACTS / rules["departments_file"]  # an absolute departments_file replaces the base
    registry = yamlfile.read(path)
    return {d["code"]: d["name"] for d in registry["departments"]}


def _month_index(month: str) -> int:
    year, mon = month.split("-")
    return int(year) * 12 + int(mon) - 1


def _month_name(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _deadline(month: str, rules: dict) -> date:
    due = _month_index(month) + rules["deadline"]["months_after"]
    return date(due // 12, due % 12 + 1, rules["deadline"]["day"])


def _row(as_of, code, name, month, files, errors, rules) -> dict:
    """One scorecard row from the month's files (ordered by received time) and error counts."""
    deadline = _deadline(month, rules)
    delivered = next((f for f in files if f["file_error_code"] is None and f["status"] != "rejected"), None)
    current = [f for f in files if f["status"] != "superseded"]
    rejected = [f for f in current if f["file_error_code"] is not None]
    if delivered:
        days_late = max((delivered["received"].date() - deadline).days, 0)
        status, on_time = ("late", False) if days_late else ("on_time", True)
    else:
        days_late, on_time = None, (False if as_of > deadline else None)
        status = "rejected" if files else ("missing" if as_of > deadline else "pending")
    rows_read = sum(f["rows_read"] for f in current)
    rows_rejected = sum(f["rows_rejected"] for f in current)
    top = sorted(errors.items(), key=lambda kv: (-kv[1], kv[0]))[: rules["top_error_codes"]]
    note = rules["notes"][status].format(
        deadline=deadline.isoformat(), days_late=days_late,
        delivered=delivered["received"].strftime("%Y-%m-%d %H:%M") if delivered else None)
    return {
        "as_of": as_of, "department": code, "department_name": name, "month": month, "status": status,
        "submitted": bool(files), "on_time": on_time, "deadline": deadline,
        "delivered_at": delivered["received"] if delivered else None, "days_late": days_late,
        "files": len(current), "files_rejected": len(rejected), "rows_read": rows_read,
        "rows_loaded": sum(f["rows_loaded"] for f in current), "rows_rejected": rows_rejected,
        # a month whose every file was rejected as a whole (no row read) is 100 % rejected, not unknown
        "reject_rate": round(rows_rejected / rows_read, 4) if rows_read else (
            1.0 if current and len(rejected) == len(current) else None),
        "top_errors": json.dumps([{"code": c, "count": n} for c, n in top], ensure_ascii=False),
        "file_rejections": json.dumps(
            [{"file_name": f["file_name"], "code": f["file_error_code"], "message": f["file_error"],
              "received_at": f["received"].isoformat()} for f in rejected], ensure_ascii=False),
        "note": note, "rule_id": rules["rule_id"],
    }


def build(conn, as_of: date, rules: dict) -> int:
    """Replace mart.department_scorecard with the scorecard as of `as_of`; returns the rows written."""
    rule_tables.create(conn, [rule_tables.run_params(as_of), rule_tables.relation(
        "rule_scorecard", [("timezone", "VARCHAR")], [(rules["timezone"],)])])
    cur = sqlfiles.run(conn, "scorecard_files")
    names = [d[0] for d in cur.description]
    files = defaultdict(list)
    for values in cur.fetchall():
        f = dict(zip(names, values))
        files[f["department"], f["month"]].append(f)
    errors = defaultdict(Counter)
    for dept, month, code, n in sqlfiles.run(conn, "scorecard_errors").fetchall():
        errors[dept, month][code] = n

    departments = _departments(rules)
    for dept, _ in files:
        departments.setdefault(dept, dept)  # unregistered folder: still reported, never lost
    last = _month_index(f"{as_of:%Y-%m}")
    rows = []
    for code, name in sorted(departments.items()):
        seen = [_month_index(m) for d, m in files if d == code]
        first = _month_index(rules["start_month"]) if rules.get("start_month") else min(seen, default=last)
        for index in range(first, last + 1):
            month = _month_name(index)
            rows.append(_row(as_of, code, name, month, files.get((code, month), []),
                             errors.get((code, month), {}), rules))

    conn.execute(DDL)
    conn.execute("DELETE FROM mart.department_scorecard")
    rule_tables.insert_rows(conn, "mart.department_scorecard", COLUMNS, rows)
    return len(rows)
