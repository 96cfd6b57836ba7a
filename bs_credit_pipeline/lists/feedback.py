"""The submitting department's 信用修复处理结果: one row per repair decision it submitted, with the outcome
(准予修复 / 不予修复 / ...) and each unmet precondition with its rule id, as of the nightly build's date.

Written by the nightly list build into outbox/<department>/<month>/信用修复处理结果.csv, next to the intake report
of the partition the rows came from. It holds only that department's rows and no subject's name or ID (the sheet,
row and document number identify the row in the department's own file).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from ..atomic import atomic_write_text

FILE_NAME = "信用修复处理结果.csv"
HEADERS = ("工作表", "行号", "修复对象类别", "文书号", "受理日期", "修复决定日期", "报送的修复结果", "处理结果",
           "未满足的条件", "说明", "适用规则", "评估日期")


def _day(value) -> str:
    return value.isoformat() if isinstance(value, dt.date) else ""


def unmet_texts(unmet: list[str], rule_id: str | None, min_end: dt.date | None, repairs: dict) -> list[str]:
    """Each unmet precondition in Chinese with the rule id it was judged under (repairs.yaml messages)."""
    messages = {p["id"]: p["message"] for p in repairs["preconditions"]}
    out = []
    for pid in unmet:
        text = messages.get(pid, pid).replace("{date}", _day(min_end))
        out.append(f"{text}（{rule_id}）" if rule_id else text)
    return out


def feedback_rows(conn, repairs: dict, purged: frozenset[str] = frozenset()
                  ) -> dict[tuple[str, str], list[list[str]]]:
    """(department code, month) of the submission -> its rows (HEADERS order), by sheet and row; submissions
    whose raw copies were purged (retention.py) are left out."""
    labels = {k: v["label"] for k, v in repairs["repair_statuses"].items()}
    rows = conn.execute("""
        SELECT split_part(rp.submission_id, '|', 1), split_part(rp.submission_id, '|', 2), rp.sheet, rp.excel_row,
               rp.submission_id,
               d.target_kind, d.target_ref, d.received_date, d.decided_date, d.outcome, d.status,
               d.unmet_preconditions, d.status_reason, d.rule_id, d.display_min_end, d.as_of
        FROM mart.repair_decision d JOIN core.repair rp USING (repair_id)
        ORDER BY 1, 2, 3, 4, rp.repair_id
    """).fetchall()
    out: dict[tuple[str, str], list[list[str]]] = {}
    for (dept, month, sheet, row, sid, kind, ref, received, decided, outcome, status, unmet, reason, rule_id,
         min_end, as_of) in rows:
        if sid in purged:
            continue
        out.setdefault((dept, month), []).append([
            sheet or "", "" if row is None else str(row), kind or "", ref or "", _day(received), _day(decided),
            outcome or "", labels.get(status, status), "；".join(unmet_texts(list(unmet or []), rule_id, min_end,
                                                                            repairs)),
            reason or "", rule_id or "", _day(as_of)])
    return out


def write_feedback(conn, outbox: Path, repairs: dict, purged: frozenset[str] = frozenset()) -> list[Path]:
    """Write every submitting department's 信用修复处理结果.csv (UTF-8 with BOM, for Excel) and remove those of
    partitions that no longer hold repair decisions (a withdrawn file); returns the paths written."""
    written = []
    for (dept, month), rows in feedback_rows(conn, repairs, purged).items():
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(HEADERS)
        w.writerows(rows)
        path = Path(outbox) / dept / month / FILE_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, "\ufeff" + buf.getvalue())
        written.append(path)
    for stale in set(Path(outbox).glob(f"*/*/{FILE_NAME}")) - set(written):
        stale.unlink()
    return written
