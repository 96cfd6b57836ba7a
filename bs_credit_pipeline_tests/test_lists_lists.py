"""Sanction and reward lists, change list, idempotence and the single transaction (lists_world)."""

import datetime as dt
import json

import pytest

import lists_world as w
from bs_credit_pipeline.lists import MART_TABLES, build_all, load_rules
from bs_credit_pipeline.lists.changes import list_changes

D = dt.date.fromisoformat
RULES = load_rules()


def entries(conn, table: str, extra: str = "") -> set[tuple]:
    return set(conn.execute(f"SELECT subject_id, rule_id{extra} FROM mart.{table}").fetchall())


def test_black_list_holds_listing_decisions_only(world):
    build_all(world, D("2026-06-15"), RULES)
    assert entries(world, "black_list", ", withheld") == {
        (w.ORG_C[0], "black-court-dishonest-debtor", False),
        (w.GOV_G[0], "black-court-dishonest-debtor", False),  # a government organ is listed like anyone else
        (w.P_S[0], "black-court-dishonest-debtor", False),
        (w.ORG_E[0], "black-serious-dishonesty", True),  # objection received after listing: stays, withheld
    }
    # ORG_A has many active penalties but no listing decision: never on the black list;
    # d6 was published after its objection arrived: withheld, no new entry; s2 deleted; d2 removed by the
    # court on 2026-06-01; d4's two-year term ended on 2026-01-05
    reasons = json.loads(world.execute(
        "SELECT reasons FROM mart.black_list WHERE subject_id = ?", [w.ORG_C[0]]).fetchone()[0])
    assert reasons == [{"record_id": "d1", "kind": "dishonest_debtor", "department": "fy",
                        "file_name": "fy_dishonest_debtor.xlsx", "sheet": "Sheet1", "excel_row": 2,
                        "rule": "court-dishonest-debtor"}]


def test_punishment_measures_reach_the_legal_representative(world):
    build_all(world, D("2026-06-15"), RULES)
    rows = world.execute("""SELECT subject_id, subject_name, role, measure, department FROM mart.punishment_measure
                            WHERE listed_subject_id = ?""", [w.ORG_C[0]]).fetchall()
    org = {(m, d) for s, _, r, m, d in rows if s == w.ORG_C[0] and r == "主体"}
    rep = {(m, d) for s, n, r, m, d in rows if s == w.LEGAL_C[1] and n == "李四" and r == "法定代表人"}
    assert org == {("限制高消费", "fy"), ("限制参与政府采购", "czj"), ("限制参与招标投标", "ggzy"),
                   ("限制融资授信", "rmyh"), ("限制评先评优", "fgw")}
    assert rep == {("限制高消费", "fy"), ("限制评先评优", "fgw"), ("限制晋升提拔", "rsj"),
                   ("限制担任法定代表人、董事、监事、高级管理人员", "scjgj")}
    assert len(rows) == len(org) + len(rep)


def test_watch_list_rules(world):
    build_all(world, D("2026-06-15"), RULES)
    assert entries(world, "watch_list") == {
        (w.P_T[0], "watch-serious-traffic"),  # 交通安全 + 严重; P_U's general traffic fine is not enough
        (w.P_V[0], "watch-illegal-fundraising"),  # keyword in 违法行为类型
        (w.ORG_E[0], "watch-tax"),  # 重大税收违法失信主体
    }


def test_red_list(world):
    build_all(world, D("2026-06-15"), RULES)
    rows = world.execute("SELECT subject_id, rule_id, volunteer_hours FROM mart.red_list").fetchall()
    # ORG_A's good record is blocked by its active penalties; P_K has 30 h in the window (40 h on the
    # window's first, excluded, day)
    assert set(rows) == {(w.P_W[0], "red-good-record", None), (w.P_W2[0], "red-volunteer-hours", 70.0)}


@pytest.mark.parametrize(("as_of", "eligible"), [("2025-03-09", False), ("2025-03-10", True), ("2025-03-11", True)])
def test_green_channel_three_clean_years(world, as_of, eligible):
    # P_K's only bad record is dated 2022-03-10; clean for exactly 3 years on 2025-03-10
    build_all(world, D(as_of), RULES)
    assert ((w.P_K[0], "green-clean-3y") in entries(world, "green_channel")) is eligible


def test_green_channel_from_red_list(world):
    build_all(world, D("2026-06-15"), RULES)
    green = entries(world, "green_channel")
    assert {(w.P_W[0], "green-red-list"), (w.P_W2[0], "green-red-list"), (w.P_K[0], "green-clean-3y")} == green


def test_list_change_reasons(world):
    build_all(world, D("2026-05-31"), RULES)
    build_all(world, D("2026-06-15"), RULES)
    changes = world.execute("""SELECT list_name, change, subject_id, rule_id, reason, previous_as_of
                               FROM mart.list_change WHERE as_of = DATE '2026-06-15' AND list_name = 'black_list'""").fetchall()
    assert set(changes) == {
        ("black_list", "removed", w.P_Q[0], "black-court-dishonest-debtor", "removed", D("2026-05-31")),
        ("black_list", "removed", w.ORG_F[0], "black-serious-dishonesty", "deleted", D("2026-05-31")),
    }
    red = world.execute("""SELECT change, subject_id, reason FROM mart.list_change
                           WHERE as_of = DATE '2026-06-15' AND list_name = 'red_list'""").fetchall()
    # W2 reaches 70 h with the 2026-06-01 service; K's 2025-06-15 hours leave the 12-month window
    assert set(red) == {("added", w.P_W2[0], "new"), ("removed", w.P_K[0], "expired")}
    # repaired entries leave with reason 'repaired'; expired ones with 'expired'
    build_all(world, D("2028-02-01"), RULES)
    gone = dict(world.execute("""SELECT subject_id, reason FROM mart.list_change WHERE as_of = DATE '2028-02-01'
                                 AND list_name = 'black_list' AND change = 'removed'""").fetchall())
    # ORG_C's listing is situation (一) (有履行能力而拒不履行): no fixed term, it stays until the court removes it
    assert gone[w.GOV_G[0]] == "expired" and w.ORG_C[0] not in gone


def test_repaired_listing_leaves_with_reason(world):
    build_all(world, D("2026-09-01"), RULES)
    w.add_repair(world, "r-s1", "s1", received="2026-09-01", decided="2026-09-02", department="swj")  # 认定单位
    build_all(world, D("2026-09-02"), RULES)
    gone = world.execute("""SELECT subject_id, reason, reason_text FROM mart.list_change WHERE as_of = DATE '2026-09-02'
                            AND list_name = 'black_list'""").fetchall()
    assert gone == [(w.ORG_E[0], "repaired", "已完成信用修复")]


def test_same_as_of_twice_is_identical(world):
    snap = {}
    for run in range(2):
        build_all(world, D("2026-06-01"), RULES)
        build_all(world, D("2026-06-15"), RULES)
        # record_status rows are rewritten in place, so its physical order is not its content; the lists' is
        snap[run] = {t: world.execute(f"SELECT * FROM mart.{t}" + (" ORDER BY ALL" if t == "record_status" else ""))
                     .fetchall() for t in MART_TABLES}
    assert snap[0] == snap[1]
    assert snap[0]["list_change"]
    assert list_changes(world, D("2026-06-15"), D("2026-06-15"), RULES) == []


def test_failed_step_rolls_back_everything(world):
    build_all(world, D("2026-06-15"), RULES)
    before = world.execute("SELECT * FROM mart.black_list").fetchall()

    def broken(conn, as_of, rules):
        conn.execute("SELECT no_such_column FROM mart.black_list")

    with pytest.raises(Exception, match="no_such_column"):
        build_all(world, D("2026-06-01"), RULES, extra_steps=[broken])
    assert world.execute("SELECT * FROM mart.black_list").fetchall() == before
    assert world.execute("SELECT DISTINCT as_of FROM mart.record_status").fetchall() == [(D("2026-06-15"),)]


def test_an_entry_reached_through_two_lists_changes_on_its_own(world):
    """ORG_C is a court dishonest debtor; a serious-dishonesty listing of it (same legal representative) ends:
    the measures that listing brought must show as removed, though the court listing keeps the same measures."""
    w.add_record(world, "s3", "serious_dishonesty", w.ORG_C, "2026-02-01", end_date="2026-07-01", department="swj",
                 legal_rep=w.LEGAL_C, category="重大税收违法失信主体")
    for as_of in ("2026-06-15", "2026-07-15"):
        build_all(world, D(as_of), RULES)
        duplicated = world.execute("""SELECT list_name FROM mart.list_snapshot WHERE as_of = ?
                                      GROUP BY list_name HAVING count(*) > count(DISTINCT entry_key)""",
                                   [D(as_of)]).fetchall()
        assert duplicated == []
    removed = world.execute("""SELECT entry_key FROM mart.list_change WHERE as_of = DATE '2026-07-15'
                               AND list_name = 'punishment_measure' AND change = 'removed' AND subject_id = ?""",
                            [w.LEGAL_C[1]]).fetchall()
    assert removed and all("serious_dishonesty" in k for (k,) in removed)
    kept = world.execute("""SELECT count(*) FROM mart.punishment_measure WHERE subject_id = ?
                            AND list_type = 'dishonest_debtor'""", [w.LEGAL_C[1]]).fetchone()[0]
    assert kept == 4
