"""Display periods, repair and objections: mart.record_status on the hand-built world (lists_world)."""

import copy
import datetime as dt

import pytest

from bs_credit_pipeline.lists import build_all, load_rules
from bs_credit_pipeline.lists.rules import RulesError

D = dt.date.fromisoformat
RULES = load_rules()


def status(conn, as_of: str) -> dict[str, tuple]:
    build_all(conn, D(as_of), RULES)
    rows = conn.execute("""SELECT record_id, status, rule_id, severity_tier, display_min_end, display_max_end,
                                  status_reason FROM mart.record_status""").fetchall()
    return {r[0]: r[1:] for r in rows}


def test_rule_by_decision_date_and_tier(world):
    s = status(world, "2026-06-15")
    # (rule, tier, min end, max end): periods run from the decision date, ends are exclusive
    assert s["p1"][1:5] == ("ndrc-2019-527", "general", D("2023-07-30"), D("2024-04-30"))
    assert s["p2"][1:5] == ("ndrc-order-58", "general", D("2024-05-01"), D("2026-05-01"))  # 食品药品: 1-year min
    assert s["p3"][1:5] == ("ndrc-order-58", "serious", D("2026-06-30"), D("2029-03-31"))
    assert s["p4"][1:5] == ("ndrc-order-36", "serious", D("2027-04-01"), D("2029-04-01"))  # 罚款、吊销 -> highest
    assert s["p7"][1:5] == ("ndrc-order-36", "serious", D("2027-04-10"), D("2029-04-10"))  # explicit 严重
    assert s["p9"][1:5] == ("ndrc-order-36", "general", D("2026-08-01"), D("2027-05-01"))
    assert s["k1"][1:5] == ("ndrc-2019-527", "general", D("2022-06-10"), D("2023-03-10"))


def test_minor_penalties_under_order_36_are_not_displayed(world):
    s = status(world, "2026-06-15")
    assert s["p5"][:3] == ("not_displayed", "ndrc-order-36", "minor")  # 警告
    assert s["p6"][:3] == ("not_displayed", "ndrc-order-36", "minor")  # 简易程序 fine
    assert "原则上不予公示" in s["p5"][5]
    assert s["p2"][0] == "expired" and s["p3"][0] == "active"


@pytest.mark.parametrize(("as_of", "expected"), [("2024-04-29", "active"), ("2024-04-30", "expired")])
def test_maximum_period_day_before_and_on_end(world, as_of, expected):
    s = status(world, as_of)
    assert s["p1"][0] == expected
    if expected == "expired":
        assert s["p1"][5] == "公示期届满，最后公示日 2024-04-29"


@pytest.mark.parametrize(("as_of", "expected"), [("2026-08-31", "active"), ("2026-09-01", "expired")])
def test_explicit_publicity_end_cuts_display_inclusive(world, as_of, expected):
    s = status(world, as_of)
    assert s["p8"][0] == expected and s["p8"][4] == D("2026-09-01")


def test_future_records(world):
    s = status(world, "2026-03-31")
    assert s["p4"][0] == "future" and s["p3"][0] == "active"


def test_repair_before_minimum_refused_after_granted(world):
    s = status(world, "2027-04-12")
    assert s["p4"][0] == "active"
    assert s["p7"][0] == "repaired"
    decisions = dict(world.execute("SELECT repair_id, status FROM mart.repair_decision").fetchall())
    assert decisions == {"r-early": "refused", "r-ok": "granted"}
    reason = world.execute("SELECT status, status_reason FROM core.repair WHERE repair_id = 'r-early'").fetchone()
    assert reason == ("refused", "不予修复：未满最短公示期，最早可于 2027-04-01 申请（ndrc-order-36）")


def test_repair_not_effective_before_its_decision(world):
    s = status(world, "2027-04-11")
    assert s["p7"][0] == "active"
    assert world.execute("SELECT status FROM mart.repair_decision WHERE repair_id = 'r-ok'").fetchone() == ("pending",)


def test_objections_pending_upheld_deleted(world):
    before = status(world, "2026-05-31")
    assert before["p9"][0] == before["p10"][0] == before["s2"][0] == "active"
    s = status(world, "2026-06-15")
    assert s["p9"][0] == "withheld" and "异议处理中" in s["p9"][5]
    assert s["p10"][0] == "withheld"
    assert s["s2"][0] == "deleted"
    after = status(world, "2026-06-20")
    assert after["p9"][0] == "withheld"
    assert after["p10"][0] == "active"  # 维持 restores


def test_court_entries_removed_or_expired(world):
    s = status(world, "2026-05-31")
    assert s["d2"][0] == "active"
    s = status(world, "2026-06-01")
    assert s["d2"][0] == "removed" and s["d2"][5] == "已于 2026-06-01 移出（撤销或屏蔽）"
    assert s["d4"][0] == "expired"  # 2 years from 2024-01-05
    assert s["d5"][0] == "active" and s["d5"][4] == D("2027-01-01")  # term_end 2026-12-31 given
    assert status(world, "2026-01-04")["d4"][0] == "active"


def test_good_records_and_polarity(world):
    build_all(world, D("2026-06-15"), RULES)
    rows = dict(world.execute("SELECT record_id, polarity FROM mart.record_status").fetchall())
    assert rows["g1"] == rows["v1"] == "good" and rows["d1"] == rows["p1"] == "bad"
    assert status(world, "2027-01-01")["g1"][0] == "expired"  # valid_until 2026-12-31 inclusive


def test_overlapping_display_rules_are_rejected(tmp_path):
    import shutil

    import yaml

    from bs_credit_pipeline.lists.rules import RULES_DIR

    for p in RULES_DIR.glob("*.yaml"):
        shutil.copy(p, tmp_path)
    data = yaml.safe_load((tmp_path / "display_periods.yaml").read_text(encoding="utf-8"))
    data["penalty_rules"][2]["effective_from"] = dt.date(2023, 4, 1)  # order 58 reaching into 527's span
    (tmp_path / "display_periods.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RulesError, match="overlap"):
        load_rules(tmp_path)


def test_nightly_update_equals_a_full_rebuild(world):
    """After the first build, record_status is brought up to date by recomputing only the rows whose status can
    change. Across dates (forward, back, the same date twice), new and closed versions, repairs, objections added
    and withdrawn, merges of legacy keys (new and of subjects with records) and a renamed merge target, it must
    hold exactly the rows a fresh computation gives; new display rules recompute every row."""
    import lists_world as w

    from bs_credit_pipeline.lists.display import STATUS_COLUMNS, _status_sql, build_record_status

    cols = ", ".join(STATUS_COLUMNS)

    def night(as_of: str, rules: dict = RULES) -> int:
        computed = build_record_status(world, D(as_of), rules)  # also mart.repair_decision, objection state
        stored = world.execute(f"SELECT {cols} FROM mart.record_status ORDER BY ALL").fetchall()
        fresh = world.execute(
            f"SELECT {cols} FROM ({_status_sql(rules['display_periods'])}) ORDER BY ALL").fetchall()
        assert stored == fresh, as_of
        assert {r[-1] for r in stored} == {D(as_of)}
        return computed

    def status_of(record_id: str) -> tuple:
        return world.execute("SELECT status, subject_id, subject_name FROM mart.record_status WHERE record_id = ?",
                             [record_id]).fetchone()

    total = night("2026-06-01")  # first build: the whole table is created
    assert total > 20
    legacy = ("ORG:保山旧号", "org", "保山旧号公司")
    w.add_record(world, "n3", "admin_penalty", legacy, "2026-05-20", category="罚款")
    world.execute("""INSERT INTO core.subject VALUES ('ORG:保山旧号', 'org', '保山旧号公司', ['保山旧号公司'],
                     NULL, NULL, NULL, DATE '2026-05-20', DATE '2026-05-20', NULL)""")
    w.add_objection(world, "o-gone", "p3", received="2026-06-05")
    assert night("2026-06-10") < total
    assert status_of("n3")[:2] == ("active", "ORG:保山旧号") and status_of("p3")[0] == "withheld"

    w.add_record(world, "n1", "admin_penalty", w.ORG_F, "2026-06-10", category="罚款")  # a new record
    world.execute("UPDATE core.credit_record SET valid_to = now() WHERE record_id = 'p2'")  # withdrawn
    w.add_objection(world, "o-late", "p5", received="2026-06-12", decided="2026-07-01", outcome="删除")
    w.add_repair(world, "r-late", "p1", received="2026-06-05", decided="2026-06-20")
    world.execute("DELETE FROM core.objection WHERE objection_id = 'o-gone'")  # the objection is withdrawn
    world.execute("""INSERT INTO core.subject VALUES ('ORG:保山测试', 'org', '保山测试公司', ['保山测试公司'],
                     NULL, NULL, NULL, DATE '2026-01-01', DATE '2026-01-01', ?)""", [w.ORG_A[0]])
    world.execute("INSERT INTO core.subject VALUES (?, 'org', ?, [?], NULL, '91', NULL, DATE '2026-01-01',"
                  " DATE '2026-01-01', NULL)", [w.ORG_A[0], w.ORG_A[2], w.ORG_A[2]])
    w.add_record(world, "n2", "admin_penalty", ("ORG:保山测试", "org", "保山测试公司"), "2026-06-11", category="警告")
    world.execute("UPDATE core.subject SET merged_into = ? WHERE subject_id = 'ORG:保山旧号'", [w.ORG_A[0]])
    assert night("2026-06-15") < total
    assert status_of("p3")[0] == "active" and status_of("n3")[1:] == (w.ORG_A[0], w.ORG_A[2])

    world.execute("UPDATE core.subject SET canonical_name = '保山市甲食品集团有限公司' WHERE subject_id = ?", [w.ORG_A[0]])
    assert night("2026-07-02") < total
    night("2025-01-01")  # 18 months back: in this small world, every record's date or end lies in between
    night("2027-04-12")
    assert night("2027-04-12") < total  # the same date again: records with objections or repairs only
    rows = {r[0]: r[1:] for r in world.execute("SELECT record_id, status, subject_id FROM mart.record_status").fetchall()}
    assert "p2" not in rows and rows["n1"][0] == "active" and rows["p5"][0] == "deleted"
    assert rows["n2"][1] == w.ORG_A[0]  # the legacy key resolved to the USCC it was merged into
    assert status_of("n3")[2] == "保山市甲食品集团有限公司"
    world.execute("UPDATE core.subject SET merged_into = NULL WHERE subject_id = 'ORG:保山测试'")  # undone by hand
    assert night("2027-04-12") < total and status_of("n2")[1] == "ORG:保山测试"

    longer = copy.deepcopy(RULES)
    longer["display_periods"]["penalty_rules"][-1]["tiers"]["serious"]["max_months"] = 48
    assert night("2027-04-12", longer) == len(rows)  # other rules: every row is computed again
    assert night("2027-04-13", longer) < len(rows)


def _rules_copy(tmp_path, edit) -> dict:
    """The rule files copied to tmp_path, `edit(name -> data)` applied, loaded."""
    import shutil

    import yaml

    from bs_credit_pipeline.lists.rules import RULES_DIR

    for p in RULES_DIR.glob("*.yaml"):
        shutil.copy(p, tmp_path)
    data = {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in tmp_path.glob("*.yaml")}
    edit(data)
    for stem, content in data.items():
        (tmp_path / f"{stem}.yaml").write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
    return load_rules(tmp_path)


def test_a_type_without_a_tier_takes_the_default_tier_of_the_rules(world, tmp_path):
    """责令改正 is in no category_tiers entry: display_periods.yaml default_tier (general) decides; set to serious
    in the rules, the same record is serious. Order 36 (2026-05-01): general 3-12 months, serious 12-36."""
    import lists_world as w

    w.add_record(world, "dt1", "admin_penalty", w.ORG_F, "2026-05-01", category="责令改正", domain="知识产权")
    s = status(world, "2026-06-15")
    assert s["dt1"][:5] == ("active", "ndrc-order-36", "general", D("2026-08-01"), D("2027-05-01"))
    serious = _rules_copy(tmp_path, lambda d: d["display_periods"].update(default_tier="serious"))
    build_all(world, D("2026-06-15"), serious)
    row = world.execute("SELECT severity_tier, display_min_end, display_max_end FROM mart.record_status"
                        " WHERE record_id = 'dt1'").fetchone()
    assert row == ("serious", D("2027-05-01"), D("2029-05-01"))


def test_reasons_are_texts_of_the_rules(world, tmp_path):
    """status, repair and objection reasons are the rule files' templates; a missing one stops the load."""
    def edit(d):
        d["display_periods"]["status_reasons"]["expired"] = "已过公示期（最后一日 {last_day}）"
        d["repairs"]["repair_reasons"]["unmet"] = "未准：{unmet}；规则 {rule_id}"
    rules = _rules_copy(tmp_path, edit)
    build_all(world, D("2027-04-12"), rules)
    assert world.execute("SELECT status_reason FROM mart.record_status WHERE record_id = 'p1'").fetchone() == (
        "已过公示期（最后一日 2024-04-29）",)
    assert world.execute("SELECT status_reason FROM mart.repair_decision WHERE repair_id = 'r-early'").fetchone() == (
        "未准：未满最短公示期，最早可于 2027-04-01 申请；规则 ndrc-order-36",)
    other = tmp_path / "missing"
    other.mkdir()
    with pytest.raises(RulesError, match="status_reasons lacks expired"):
        _rules_copy(other, lambda d: d["display_periods"]["status_reasons"].pop("expired"))


def test_the_submitting_department_gets_each_repair_decision(world, tmp_path):
    """outbox/<department>/<month>/信用修复处理结果.csv: one row per repair of that submission, 准予 / 不予修复 and
    each unmet precondition with its rule id (p4: 罚款、吊销 2026-04-01, serious under order 36, repair possible
    from 2027-04-01; p7: explicit 严重 2026-04-10, from 2027-04-10)."""
    import csv

    from bs_credit_pipeline.lists.feedback import FILE_NAME, write_feedback

    world.execute("UPDATE core.repair SET submission_id = 'fgw|2027-04|abc',"
                  " excel_row = CASE repair_id WHEN 'r-early' THEN 2 ELSE 3 END")
    build_all(world, D("2027-04-12"), RULES)
    paths = write_feedback(world, tmp_path, RULES["repairs"])
    assert paths == [tmp_path / "fgw" / "2027-04" / FILE_NAME]
    with paths[0].open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["行号"], r["处理结果"], r["未满足的条件"], r["适用规则"], r["评估日期"]) for r in rows] == [
        ("2", "不予修复", "未满最短公示期，最早可于 2027-04-01 申请（ndrc-order-36）", "ndrc-order-36", "2027-04-12"),
        ("3", "准予修复", "", "ndrc-order-36", "2027-04-12")]
    assert rows[1]["说明"] == ("准予修复：满足国家发展改革委令2025年第36号《信用修复管理办法》规定的全部条件"
                             "（最短公示期 2027-04-10 届满，已履行法定义务，已作出信用承诺）")
    assert rows[0]["受理日期"] == "2027-03-31" and rows[0]["报送的修复结果"] == "修复"


def test_a_withdrawn_repair_file_loses_its_feedback(world, tmp_path):
    from bs_credit_pipeline.lists.feedback import FILE_NAME, write_feedback

    stale = tmp_path / "fgw" / "2027-01" / FILE_NAME
    stale.parent.mkdir(parents=True)
    stale.write_text("old", encoding="utf-8")
    world.execute("UPDATE core.repair SET submission_id = 'fgw|2027-04|abc'")
    build_all(world, D("2027-04-12"), RULES)
    assert write_feedback(world, tmp_path, RULES["repairs"]) == [tmp_path / "fgw" / "2027-04" / FILE_NAME]
    assert not stale.exists()


def test_purged_submissions_get_no_feedback(world, tmp_path):
    """A submission whose raw copies retention purged is left out of the department's feedback."""
    from bs_credit_pipeline.lists.feedback import write_feedback

    world.execute("UPDATE core.repair SET submission_id = 'fgw|2027-04|abc'")
    build_all(world, D("2027-04-12"), RULES)
    assert write_feedback(world, tmp_path, RULES["repairs"], frozenset({"fgw|2027-04|abc"})) == []
