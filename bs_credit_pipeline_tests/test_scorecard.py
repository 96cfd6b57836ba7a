"""Department scorecard from hand-written ops.submission / ops.rejected_row rows."""

import json
from datetime import date, datetime, timezone

import pytest

import lists_world as w
from bs_credit_pipeline.lists import scorecard

AS_OF = date(2026, 11, 15)


@pytest.fixture
def conn(tmp_path):
    con = w.connect(tmp_path / "w.duckdb")
    yield con
    con.close()


@pytest.fixture
def rules(tmp_path):
    registry = tmp_path / "departments.yaml"
    registry.write_text(
        "departments:\n"
        "  - {code: fy, name: 保山市中级人民法院, kinds: [dishonest_debtor]}\n"
        "  - {code: gaj, name: 保山市公安局, kinds: [admin_penalty]}\n"
        "  - {code: swj, name: 国家税务总局保山市税务局, kinds: [admin_penalty]}\n"
        "  - {code: sjj, name: 保山市审计局, kinds: [admin_penalty]}\n", encoding="utf-8")
    return scorecard.load_rules() | {"departments_file": str(registry)}


def submit(con, sid, dept, month, received_utc, *, status="accepted", read=0, loaded=0, rejected=0,
           error=None, errors=()):
    """One ops.submission row (received_at in UTC) and its ops.rejected_row problems [(code, severity, n)]."""
    code, message = error or (None, None)
    con.execute(
        """INSERT INTO ops.submission (submission_id, department, month, file_name, sha256, received_at,
           status, rows_read, rows_loaded, rows_rejected, rows_skipped, file_error_code, file_error)
           VALUES (?, ?, ?, ?, 'x', ?, ?, ?, ?, ?, 0, ?, ?)""",
        [sid, dept, month, f"{sid}.xlsx", received_utc, status, read, loaded, rejected, code, message])
    for err_code, severity, n in errors:
        con.execute(
            """INSERT INTO ops.rejected_row (submission_id, department, month, excel_row, code, severity, message)
               SELECT ?, ?, ?, range + 2, ?, ?, '错误' FROM range(?)""", [sid, dept, month, err_code, severity, n])


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def filled(conn):
    # fy 2026-09: a superseded early file and its replacement; 10-10 23:59:59 Shanghai is still on time
    submit(conn, "fy-09-a", "fy", "2026-09", utc(2026, 10, 9, 1), status="superseded", read=40, loaded=40,
           errors=[("E_DATE", "error", 7)])
    submit(conn, "fy-09-b", "fy", "2026-09", utc(2026, 10, 10, 15, 59, 59), read=40, loaded=38, rejected=2,
           errors=[("E_REQUIRED", "error", 2)])
    # fy 2026-10: 11-10 16:30 UTC is 11-11 00:30 in Shanghai: one day late
    submit(conn, "fy-10", "fy", "2026-10", utc(2026, 11, 10, 16, 30), status="partial", read=100, loaded=90,
           rejected=10, errors=[("E_ID_CHECK", "error", 6), ("E_DATE", "error", 3), ("E_REQUIRED", "error", 2),
                                ("E_ENUM", "error", 1), ("W_AREA_CODE", "warning", 9)])
    # fy 2026-11: a file received after as_of does not count yet
    submit(conn, "fy-11", "fy", "2026-11", utc(2026, 11, 20, 2), read=5, loaded=5)
    submit(conn, "gaj-09", "gaj", "2026-09", utc(2026, 10, 3, 2), read=10, loaded=10)
    # swj 2026-10: the first file is rejected as a whole, the second arrives two days late
    submit(conn, "swj-10-a", "swj", "2026-10", utc(2026, 11, 5, 2), status="rejected",
           error=("F_ENCRYPTED", "文件已加密，无法读取"))
    submit(conn, "swj-10-b", "swj", "2026-10", utc(2026, 11, 12, 2), read=8, loaded=8)
    submit(conn, "xyz-11", "xyz", "2026-11", utc(2026, 11, 2, 2), read=1, loaded=1)
    return conn


def card(con):
    cur = con.execute("SELECT * FROM mart.department_scorecard")
    cols = [d[0] for d in cur.description]
    return {(r["department"], r["month"]): r for r in (dict(zip(cols, row)) for row in cur.fetchall())}


def test_on_time_late_missing_pending(filled, rules):
    assert scorecard.build(filled, AS_OF, rules) == 3 + 3 + 2 + 1 + 1
    got = {k: (r["status"], r["submitted"], r["on_time"], r["deadline"], r["days_late"])
           for k, r in card(filled).items()}
    assert got == {
        ("fy", "2026-09"): ("on_time", True, True, date(2026, 10, 10), 0),
        ("fy", "2026-10"): ("late", True, False, date(2026, 11, 10), 1),
        ("fy", "2026-11"): ("pending", False, None, date(2026, 12, 10), None),
        ("gaj", "2026-09"): ("on_time", True, True, date(2026, 10, 10), 0),
        ("gaj", "2026-10"): ("missing", False, False, date(2026, 11, 10), None),
        ("gaj", "2026-11"): ("pending", False, None, date(2026, 12, 10), None),
        ("swj", "2026-10"): ("late", True, False, date(2026, 11, 10), 2),
        ("swj", "2026-11"): ("pending", False, None, date(2026, 12, 10), None),
        ("sjj", "2026-11"): ("pending", False, None, date(2026, 12, 10), None),   # never submitted
        ("xyz", "2026-11"): ("on_time", True, True, date(2026, 12, 10), 0),      # unregistered folder
    }
    rows = card(filled)
    assert rows[("gaj", "2026-10")]["note"] == "本月未报送（截止 2026-11-10）"
    assert rows[("fy", "2026-10")]["note"] == "逾期报送（2026-11-11 00:30 报送，截止 2026-11-10，逾期 1 天）"
    assert rows[("fy", "2026-09")]["delivered_at"] == datetime(2026, 10, 9, 9, 0)   # the superseded file
    assert rows[("gaj", "2026-09")]["department_name"] == "保山市公安局"
    assert rows[("xyz", "2026-11")]["department_name"] == "xyz"


def test_reject_rate_top_errors_and_file_rejections(filled, rules):
    scorecard.build(filled, AS_OF, rules)
    rows = card(filled)
    late = rows[("fy", "2026-10")]
    assert (late["files"], late["rows_read"], late["rows_loaded"], late["rows_rejected"], late["reject_rate"]) \
        == (1, 100, 90, 10, 0.1)
    assert json.loads(late["top_errors"]) == [
        {"code": "E_ID_CHECK", "count": 6}, {"code": "E_DATE", "count": 3}, {"code": "E_REQUIRED", "count": 2}]
    # the superseded file's rows and errors are not counted
    sep = rows[("fy", "2026-09")]
    assert (sep["files"], sep["rows_read"], sep["reject_rate"]) == (1, 40, 0.05)
    assert json.loads(sep["top_errors"]) == [{"code": "E_REQUIRED", "count": 2}]
    swj = rows[("swj", "2026-10")]
    assert (swj["files"], swj["files_rejected"]) == (2, 1)
    assert json.loads(swj["file_rejections"]) == [{"file_name": "swj-10-a.xlsx", "code": "F_ENCRYPTED",
                                                   "message": "文件已加密，无法读取",
                                                   "received_at": "2026-11-05T10:00:00"}]
    assert rows[("gaj", "2026-10")]["reject_rate"] is None  # nothing received
    assert json.loads(rows[("gaj", "2026-10")]["top_errors"]) == []


def test_only_rejected_files_and_configured_start(filled, rules):
    filled.execute("DELETE FROM ops.submission WHERE submission_id = 'swj-10-b'")
    scorecard.build(filled, AS_OF, rules | {"start_month": "2026-08"})
    rows = card(filled)
    assert (rows[("swj", "2026-10")]["status"], rows[("swj", "2026-10")]["on_time"]) == ("rejected", False)
    # its only file was rejected as a whole (encrypted, no row read): the month is 100 % rejected, not unknown
    assert (rows[("swj", "2026-10")]["rows_read"], rows[("swj", "2026-10")]["reject_rate"]) == (0, 1.0)
    assert {m for d, m in rows if d == "sjj"} == {"2026-08", "2026-09", "2026-10", "2026-11"}
    assert rows[("sjj", "2026-08")]["status"] == "missing"


def test_same_as_of_twice_is_identical(filled, rules):
    scorecard.build(filled, AS_OF, rules)
    first = filled.execute("SELECT * FROM mart.department_scorecard ORDER BY ALL").fetchall()
    scorecard.build(filled, AS_OF, rules)
    assert filled.execute("SELECT * FROM mart.department_scorecard ORDER BY ALL").fetchall() == first
