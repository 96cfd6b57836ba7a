"""Government-affairs integrity evaluation and warnings from hand-written mart.record_status rows."""

import json
from datetime import date

import pytest

from lists_world import complete_citizen_id as citizen_id
from lists_world import complete_uscc as uscc
from bs_credit_pipeline.lists import gov_integrity

SEP, OCT = date(2026, 9, 1), date(2026, 10, 1)






BUREAU = uscc("1153050201234567")      # 隆阳区某局, listed as a dishonest debtor
OFFICE = uscc("1153050207654321")      # 隆阳区某办, employer of a disciplined civil servant
AGENCY = uscc("1153050211112222")      # 隆阳区某中心, its debtor listing has expired
TENGCHONG = uscc("1153058133334444")   # 腾冲市人民政府
HOSPITAL = uscc("1253052455556666")    # 昌宁县 public institution (not a government organ)
CLERK = citizen_id("53050219800101001")


@pytest.fixture
def conn(status_conn):
    return status_conn


def add(con, as_of, record_id, kind, subject_id, name, *, category=None, status="active", payload=None,
        subject_type="org", department="fy", excel_row=4):
    """A current record version (once) and its record_status row for as_of."""
    if not con.execute("SELECT count(*) FROM core.credit_record WHERE record_id = ?", [record_id]).fetchone()[0]:
        con.execute(
            """INSERT INTO core.credit_record (version_id, record_id, version, kind, subject_id, subject_type,
               subject_name, record_date, category, payload, content_hash, department, month, submission_id,
               file_sha256, file_name, sheet, excel_row, valid_from)
               VALUES (?, ?, 1, ?, ?, ?, ?, DATE '2026-06-01', ?, ?, 'h', ?, '2026-06', 's', 'f', ?, 'Sheet1', ?,
                       now())""",
            [f"{record_id}|1", record_id, kind, subject_id, subject_type, name, category,
             json.dumps(payload or {}, ensure_ascii=False), department, f"{kind}.xlsx", excel_row])
    con.execute(
        """INSERT INTO mart.record_status (as_of, record_id, version_id, kind, subject_id, subject_type,
           subject_name, department, record_date, category, status, file_name, sheet, excel_row)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, DATE '2026-06-01', ?, ?, ?, 'Sheet1', ?)""",
        [as_of, record_id, f"{record_id}|1", kind, subject_id, subject_type, name, department, category,
         status, f"{kind}.xlsx", excel_row])


def table(con, name):
    cur = con.execute(f"SELECT * FROM {name} ORDER BY ALL")
    cols = [d[0] for d in cur.description]
    return {(r["evaluated_id"], r.get("warning_type")): r for r in (dict(zip(cols, row)) for row in cur.fetchall())}


def test_bodies_counties_red_warning_and_ranks(conn):
    add(conn, OCT, "dd1", "dishonest_debtor", BUREAU, "保山市隆阳区某局", excel_row=9)
    add(conn, OCT, "dd2", "dishonest_debtor", AGENCY, "保山市隆阳区某中心", status="expired")
    add(conn, OCT, "cs1", "civil_servant_record", CLERK, "王五", category="纪律处分", subject_type="person",
        department="rsj", payload={"employer_uscc": OFFICE.lower(), "employer": "保山市隆阳区某办"})
    add(conn, OCT, "gi1", "gov_integrity_record", TENGCHONG, "腾冲市人民政府", category="地方政府债务逾期",
        department="czj")
    add(conn, OCT, "gi2", "gov_integrity_record", HOSPITAL, "昌宁县某医院", category="拖欠账款",
        department="czj", payload={"division_code": "530524"})

    assert gov_integrity.build(conn, OCT, gov_integrity.load_rules()) == 4 + 6 + 1
    rows = table(conn, "mart.gov_integrity")
    got = {k[0]: (r["evaluated_type"], r["name"], r["division_code"], r["score"], r["stars"], r["rank"])
           for k, r in rows.items()}
    assert got == {
        BUREAU: ("body", "保山市隆阳区某局", "530502", 70, "★★", 4),        # dishonest debtor -30; ranks: county-level bodies city-wide
        OFFICE: ("body", "保山市隆阳区某办", "530502", 97, "★★★★★", 2),     # staff discipline -3
        AGENCY: ("body", "保山市隆阳区某中心", "530502", 100, "★★★★★", 1),  # expired listing: no deduction
        TENGCHONG: ("body", "腾冲市人民政府", "530581", 90, "★★★★", 3),     # overdue debt -10
        "530502": ("county", "隆阳区", "530502", 67, "★★", 5),
        "530521": ("county", "施甸县", "530521", 100, "★★★★★", 1),
        "530523": ("county", "龙陵县", "530523", 100, "★★★★★", 1),
        "530524": ("county", "昌宁县", "530524", 90, "★★★★", 3),           # arrears via payload division
        "530581": ("county", "腾冲市", "530581", 90, "★★★★", 3),
        "530500": ("county", "市本级", "530500", 100, "★★★★★", None),
    }
    bureau = {i["id"]: i for i in json.loads(rows[(BUREAU, None)]["indicators"])}
    assert (bureau["dishonest_debtor"]["value"], bureau["dishonest_debtor"]["points"]) == (1, -30)
    assert bureau["dishonest_debtor"]["records"][0] | {"record_date": None} == {
        "record_id": "dd1", "kind": "dishonest_debtor", "department": "fy", "file_name": "dishonest_debtor.xlsx",
        "sheet": "Sheet1", "excel_row": 9, "category": None, "record_date": None}

    warnings = table(conn, "mart.gov_warning")
    assert list(warnings) == [(BUREAU, "listed_dishonest_debtor")]
    red = warnings[(BUREAU, "listed_dishonest_debtor")]
    assert red["level"] == "red" and "保山市隆阳区某局被列入失信被执行人名单" in red["message"]
    assert [r["record_id"] for r in json.loads(red["reasons"])] == ["dd1"]


def test_indicator_caps(conn):
    for i in range(3):
        add(conn, OCT, f"cr{i}", "gov_integrity_record", BUREAU, "保山市隆阳区某局", category="未履行人民法院生效裁决")
    for i in range(4):
        add(conn, OCT, f"h{i}", "gov_integrity_record", BUREAU, "保山市隆阳区某局", category="上级表彰")
    gov_integrity.build(conn, OCT, gov_integrity.load_rules())
    row = table(conn, "mart.gov_integrity")[(BUREAU, None)]
    ind = {i["id"]: (i["value"], i["points"]) for i in json.loads(row["indicators"])}
    assert ind["court_ruling_unfulfilled"] == (3, -40) and ind["honours"] == (4, 6)
    assert row["score"] == 100 - 40 + 6


def test_county_score_drop_warnings_and_same_as_of_twice(conn):
    rules = gov_integrity.load_rules()
    longyang = uscc("1153050201234567")
    shidian = uscc("1153052101234567")
    changning = uscc("1153052401234567")
    add(conn, SEP, "v1", "gov_integrity_record", longyang, "隆阳区某局", category="违法违规")
    gov_integrity.build(conn, SEP, rules)
    add(conn, OCT, "v1", "gov_integrity_record", longyang, "隆阳区某局", category="违法违规")
    add(conn, OCT, "a1", "gov_integrity_record", longyang, "隆阳区某局", category="拖欠账款", excel_row=12)
    add(conn, OCT, "v2", "gov_integrity_record", shidian, "施甸县某局", category="失信违约")
    add(conn, OCT, "s1", "civil_servant_record", CLERK, "王五", category="纪律处分", subject_type="person",
        payload={"employer_uscc": changning})
    gov_integrity.build(conn, OCT, rules)

    scores = {k[0]: r["score"] for k, r in table(conn, "mart.gov_integrity").items()}
    assert (scores["530502"], scores["530521"], scores["530524"]) == (85, 95, 97)
    warnings = table(conn, "mart.gov_warning")
    assert {k: (w["level"], w["name"]) for k, w in warnings.items()} == {
        ("530502", "score_drop"): ("orange", "隆阳区"),   # 95 -> 85: drop 10
        ("530521", "score_drop"): ("yellow", "施甸县"),   # 100 -> 95: drop 5 (the threshold)
    }                                                     # 昌宁县 100 -> 97: drop 3, no warning
    orange = warnings[("530502", "score_drop")]
    assert orange["message"] == "隆阳区政务诚信评价得分由95分降至85分，下降10分，达到橙色预警阈值（10分）。"
    reasons = json.loads(orange["reasons"])
    assert [(r["record_id"], r["rule"], r["change"], r["previous_points"], r["points"], r["excel_row"])
            for r in reasons] == [("a1", "arrears", "added", 0, -10, 12)]

    history = conn.execute("SELECT as_of, count(*) FROM mart.gov_integrity_history GROUP BY 1 ORDER BY 1")
    assert history.fetchall() == [(SEP, 7), (OCT, 9)]
    tables = ("mart.gov_integrity", "mart.gov_warning", "mart.gov_integrity_history")
    snapshot = [conn.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables]
    gov_integrity.build(conn, OCT, rules)
    assert [conn.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables] == snapshot
