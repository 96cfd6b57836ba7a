"""Integrity points: hand-computed scores from hand-written mart.record_status rows."""

import json
import logging
import re
from datetime import date

import pytest

from lists_world import complete_citizen_id as citizen_id
from lists_world import complete_uscc as uscc
from bs_credit_pipeline.lists import points

AS_OF = date(2026, 10, 1)






ZHANG = citizen_id("53050219850312001")
LI = citizen_id("53052119900101002")


@pytest.fixture
def conn(status_conn):
    return status_conn


def add(con, record_id, kind, subject_id, name, *, category=None, tier=None, status="active",
        record_date=date(2026, 3, 1), payload=None, department="scjgj", excel_row=5, subject_type="person"):
    """One current record version plus its record_status row."""
    version_id = f"{record_id}|1"
    con.execute(
        """INSERT INTO core.credit_record (version_id, record_id, version, kind, subject_id, subject_type,
           subject_name, record_date, category, payload, content_hash, department, month, submission_id,
           file_sha256, file_name, sheet, excel_row, valid_from)
           VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, 'h', ?, '2026-03', 's', 'f', ?, 'Sheet1', ?, now())""",
        [version_id, record_id, kind, subject_id, subject_type, name, record_date, category, json.dumps(payload or {}),
         department, f"{kind}.xlsx", excel_row])
    con.execute(
        """INSERT INTO mart.record_status (as_of, record_id, version_id, kind, subject_id, subject_type,
           subject_name, department, record_date, category, severity_tier, status, file_name, sheet, excel_row)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'Sheet1', ?)""",
        [AS_OF, record_id, version_id, kind, subject_id, subject_type, name, department, record_date, category, tier,
         status, f"{kind}.xlsx", excel_row])


def scores(con):
    rows = con.execute("SELECT subject_id, score, grade, items, rule_id, as_of FROM mart.integrity_score").fetchall()
    return {r[0]: {"score": r[1], "grade": r[2], "items": json.loads(r[3]), "rule_id": r[4], "as_of": r[5]}
            for r in rows}


def test_good_record_volunteer_hours_and_general_penalty(conn):
    rules = points.load_rules()
    add(conn, "g1", "good_record", ZHANG, "张三", category="优秀志愿者", department="wmb", excel_row=3)
    add(conn, "v1", "volunteer_service", ZHANG, "张三", payload={"hours": "24"}, record_date=date(2026, 5, 1))
    add(conn, "v2", "volunteer_service", ZHANG, "张三", payload={"hours": 13.5}, record_date=date(2025, 12, 1))
    add(conn, "v3", "volunteer_service", ZHANG, "张三", payload={"hours": 40}, record_date=date(2025, 9, 30))
    add(conn, "p1", "admin_penalty", ZHANG, "张三", category="罚款", tier="general", department="gaj", excel_row=7)

    assert points.build(conn, AS_OF, rules) == 1
    got = scores(conn)[ZHANG]
    # 1000 + 30 (优秀志愿者) + floor(37.5 h / 10) = 3 (v3 lies outside the 12 months) - 20 (general penalty)
    assert got["score"] == 1013 and got["grade"] == "A"
    assert got["rule_id"] == "bs-points-2026-v1" and got["as_of"] == AS_OF
    items = got["items"]
    assert [(i["rule"], i["points"]) for i in items] == [
        ("good.volunteer_award", 30), ("volunteer.hours", 3), ("penalty.general", -20)]
    assert items[0] == {"record_id": "g1", "kind": "good_record", "department": "wmb",
                        "file_name": "good_record.xlsx", "sheet": "Sheet1", "excel_row": 3,
                        "category": "优秀志愿者", "points": 30, "rule": "good.volunteer_award", "title": "优秀志愿者"}
    assert items[1]["hours"] == 37.5 and [r["record_id"] for r in items[1]["records"]] == ["v2", "v1"]
    assert (items[2]["record_id"], items[2]["department"], items[2]["excel_row"]) == ("p1", "gaj", 7)


def test_records_not_active_do_not_count(conn):
    statuses = ["expired", "repaired", "withheld", "deleted", "not_displayed", "removed"]
    for n, status in enumerate(statuses):
        person = citizen_id(f"53050219900101{n:03d}")
        add(conn, f"p{n}", "admin_penalty", person, "张三", tier="serious", status=status)
        add(conn, f"d{n}", "dishonest_debtor", person, "张三", status=status)
        add(conn, f"g{n}", "good_record", person, "张三", category="诚信道德模范", status=status)
        add(conn, f"v{n}", "volunteer_service", person, "张三", payload={"hours": 100}, status=status)
    add(conn, "f1", "good_record", LI, "李四", category="诚信道德模范", status="future")
    assert points.build(conn, AS_OF, points.load_rules()) == len(statuses)   # 李四 is not known yet
    assert {(s["score"], s["grade"], json.dumps(s["items"])) for s in scores(conn).values()} == {(1000, "A", "[]")}


def test_caps_and_first_matching_rule(conn):
    add(conn, "g1", "good_record", ZHANG, "张三", category="诚信道德模范")
    add(conn, "g2", "good_record", ZHANG, "张三", category="诚信道德模范", record_date=date(2026, 4, 1))
    add(conn, "g3", "good_record", ZHANG, "张三", category="表彰荣誉")
    add(conn, "v1", "volunteer_service", ZHANG, "张三", payload={"hours": 800})
    add(conn, "c1", "civil_servant_record", ZHANG, "张三", category="纪律处分、问责处理")
    points.build(conn, AS_OF, points.load_rules())
    items = {i["rule"] + ":" + str(i["record_id"]): i["points"] for i in scores(conn)[ZHANG]["items"]}
    # additions capped at 100 (50 + 50, then 0 for the 20-point honour); hours capped at 50;
    # the record matching two civil-servant rules takes the first one in file order (纪律处分 -30)
    assert items == {"good.moral_model:g1": 50, "good.moral_model:g2": 50, "good.honour:g3": 0,
                     "volunteer.hours:None": 50, "civil_servant.discipline:c1": -30}
    assert scores(conn)[ZHANG]["score"] == 1000 + 100 + 50 - 30


def test_grade_boundaries(conn):
    expected = {50: "AAA", 49: "AA", 30: "AA", 29: "A", -40: "A", -41: "B", -150: "B", -151: "C", -400: "C",
                -401: "D"}
    rules = points.load_rules()
    rules["deductions"]["rules"] = [{"id": f"t{d}", "title": "测试", "kind": "admin_penalty", "match": [f"<{d}>"],
                                     "points": d} for d in expected]
    people = {}
    for n, delta in enumerate(expected):
        people[citizen_id(f"53050219900101{n:03d}")] = delta
        add(conn, f"p{n}", "admin_penalty", citizen_id(f"53050219900101{n:03d}"), "张三", category=f"<{delta}>")
    points.build(conn, AS_OF, rules)
    got = {pid: (s["score"], s["grade"]) for pid, s in scores(conn).items()}
    assert got == {pid: (1000 + d, expected[d]) for pid, d in people.items()}


def test_only_persons_and_same_as_of_twice_is_identical(conn):
    add(conn, "p1", "admin_penalty", uscc("9153050231234567"), "某公司", tier="serious", subject_type="org")
    add(conn, "d1", "dishonest_debtor", LI, "李四")
    add(conn, "s1", "serious_dishonesty", LI, "李四")
    rules = points.load_rules()
    assert points.build(conn, AS_OF, rules) == 1
    first = conn.execute("SELECT * FROM mart.integrity_score ORDER BY subject_id").fetchall()
    assert [(r[0], r[2], r[3]) for r in first] == [(LI, 750, "C")]
    assert points.build(conn, AS_OF, rules) == 1
    assert conn.execute("SELECT * FROM mart.integrity_score ORDER BY subject_id").fetchall() == first


def test_name_from_the_latest_dated_record_an_undated_one_never_wins(conn):
    add(conn, "a1", "admin_licence", LI, "李四", record_date=date(2026, 2, 1))
    add(conn, "a2", "admin_licence", LI, "李肆", record_date=date(2026, 4, 1))
    add(conn, "z9", "admin_licence", LI, "李 四", record_date=None)  # sorts after both by record_id
    points.build(conn, AS_OF, points.load_rules())
    assert conn.execute("SELECT subject_name FROM mart.integrity_score").fetchall() == [("李肆",)]



def test_nightly_update_equals_a_full_scoring(world, caplog):
    """A night after the scores of the date record_status was updated from rescores only the persons whose record
    statuses changed or whose volunteer records enter or leave the hours window; the table must equal scoring
    everyone. The window is set shorter than the records' display, so records leave it while still active."""
    import lists_world as w

    from bs_credit_pipeline.lists import build_all
    from bs_credit_pipeline.lists import load_rules as load_list_rules
    from bs_credit_pipeline.lists.display import build_record_status
    from bs_credit_pipeline.pipeline import evaluation_step

    rules = load_list_rules()
    rules["points"]["volunteer"]["window_months"] = 6

    def night(as_of: str) -> tuple[int, int]:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger=points.__name__):
            build_all(world, date.fromisoformat(as_of), rules, extra_steps=[evaluation_step(points)])
        scored, total = (int(n) for n in re.search(r"(\d+) of (\d+) persons", caplog.messages[-1]).groups())
        stored = world.execute("SELECT * EXCLUDE (as_of), as_of FROM mart.integrity_score ORDER BY ALL").fetchall()
        world.execute("DELETE FROM mart.build_basis WHERE table_name = 'integrity_score'")
        points.build(world, date.fromisoformat(as_of), rules["points"])  # everyone scored again
        fresh = world.execute("SELECT * EXCLUDE (as_of), as_of FROM mart.integrity_score ORDER BY ALL").fetchall()
        assert stored == fresh, as_of
        assert {r[-1] for r in stored} == {date.fromisoformat(as_of)}
        return scored, total

    first = night("2026-06-01")
    assert first[0] == first[1] > 5  # the first night scores everyone
    w.add_record(world, "v5", "volunteer_service", w.P_K, "2026-06-10", department="wmb", payload={"hours": 20})
    w.add_record(world, "g3", "good_record", w.P_Q, "2026-06-05", end_date="2027-06-04", category="优秀志愿者")
    world.execute("UPDATE core.credit_record SET valid_to = now() WHERE record_id = 'v2'")  # withdrawn
    for as_of in ("2026-06-15", "2026-07-02", "2026-07-02"):  # v4 (2026-01-01) leaves the window on 07-02
        scored, total = night(as_of)
        assert scored < total, as_of
    night("2026-03-01")  # back in time
    scores_k = json.loads(world.execute("SELECT items FROM mart.integrity_score WHERE subject_id = ?",
                                        [w.P_K[0]]).fetchall()[0][0])
    assert [i.get("hours") for i in scores_k if i["kind"] == "volunteer_service"] == [30.0]  # v4; v3 is older
    build_record_status(world, date(2026, 8, 1), rules)  # record_status moved on without the scores
    scored, total = night("2026-08-15")
    assert scored == total  # its changes lead from 08-01, the scores are of 03-01: everyone is scored again
