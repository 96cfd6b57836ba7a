"""Warehouse migrations and partition loads: resubmissions, dedup, subjects, repairs, atomicity."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pyarrow as pa
import pytest

from bs_credit_pipeline.warehouse import schema
from bs_credit_pipeline.warehouse.load import load_partition
from bs_credit_pipeline.warehouse.staged import staged_files
from bs_credit_pipeline_tests.synthetic import citizen_id, org_code, uscc, write_rejected_file, write_staged

T0 = datetime(2026, 2, 1, 8, tzinfo=timezone.utc)
PROMOTE = {"admin_penalty": {"category": "penalty_types", "end_date": "publicity_end_date",
                             "severity": "severity", "legal_rep_name": "legal_rep_name",
                             "legal_rep_id": "legal_rep_id_number"}}
TARGETS = {"行政处罚": ("admin_penalty", "decision_no")}


def penalties(rows: list[dict]) -> pa.Table:
    base = {"subject_name": None, "uscc": None, "org_code": None, "id_number": None, "legal_rep_name": None,
            "legal_rep_id_number": None, "decision_no": None, "penalty_types": "罚款", "severity": "一般",
            "fine_amount": 1.0, "decision_date": date(2026, 1, 5), "publicity_end_date": date(2027, 1, 5),
            "remarks": None}
    full = [{**base, **r} for r in rows]
    types = {"fine_amount": pa.float64(), "decision_date": pa.date32(), "publicity_end_date": pa.date32()}
    return pa.table({k: pa.array([r[k] for r in full], types.get(k, pa.string())) for k in base})


def org(n: int, decision: str, **extra) -> dict:
    return {"subject_name": f"保山市第{n}商贸有限公司", "uscc": uscc(n), "decision_no": decision, **extra}


def stage(tmp_path, dept, month, rows, *, sha, name="处罚.xlsx", at=T0, kind="admin_penalty", key=("decision_no",),
          date_column="decision_date", **kw):
    return write_staged(tmp_path / "staging", dept, month, rows, kind=kind, key_columns=list(key),
                        date_column=date_column, file_name=name, received_at=at, sha256=sha * 64, **kw)


def load(conn, tmp_path, dept, month, now=T0):
    return load_partition(conn, department=dept, month=month, staged=staged_files(tmp_path / "staging", dept, month),
                          now=now, promote=PROMOTE, targets=TARGETS)


@pytest.fixture
def conn(tmp_path):
    c = schema.connect(tmp_path / "warehouse.duckdb")
    schema.migrate(c)
    yield c
    c.close()


def snapshot_state(conn) -> dict:
    return {
        "records": conn.execute("SELECT * FROM core.credit_record ORDER BY version_id").fetchall(),
        "subjects": conn.execute("SELECT * FROM core.subject ORDER BY subject_id").fetchall(),
        "submissions": conn.execute("SELECT * FROM ops.submission ORDER BY submission_id").fetchall(),
        "rejected": conn.execute("SELECT * FROM ops.rejected_row ORDER BY ALL").fetchall(),
    }


def test_migrate_fresh_and_repeat(tmp_path):
    c = schema.connect(tmp_path / "w.duckdb")
    assert schema.migrate(c) == len(schema.migrations()) == 4
    assert schema.migrate(c) == 4
    assert c.execute("SELECT list(version ORDER BY version) FROM ops.schema_version").fetchone()[0] == [1, 2, 3, 4]


# What migrations 2-4 added, taken away again: the warehouse as the first release left it, with its data.
_BACK_TO_V1 = """
DROP VIEW core.subject_resolved; DROP VIEW core.current_record; DROP VIEW ops.partition_status;
ALTER TABLE core.repair DROP COLUMN department; ALTER TABLE core.repair DROP COLUMN obligation_fulfilled;
ALTER TABLE core.repair DROP COLUMN commitment_made; ALTER TABLE core.repair DROP COLUMN training_and_report;
ALTER TABLE core.repair DROP COLUMN deciding_unit; ALTER TABLE core.objection DROP COLUMN department;
DROP TABLE audit.explain; ALTER TABLE core.credit_record DROP COLUMN written;
DELETE FROM ops.schema_version WHERE version > 1;
"""


def test_v1_warehouse_migrates_forward_with_its_data(tmp_path):
    path = tmp_path / "w.duckdb"
    c = schema.connect(path)
    schema.migrate(c)
    stage(tmp_path, "scjgj", "2026-01", penalties([org(1, "罚1"), org(2, "罚2")]), sha="a")
    load(c, tmp_path, "scjgj", "2026-01")
    c.execute(_BACK_TO_V1)
    c.close()
    c = schema.connect(path)
    assert schema.current_version(c) == 1
    assert c.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = 'current_record'").fetchone()[0] == 0
    assert schema.migrate(c) == len(schema.migrations())
    assert c.execute("SELECT count(*) FROM core.current_record").fetchone()[0] == 2
    assert c.execute("SELECT count(*) FROM core.subject_resolved").fetchone()[0] == 2
    assert c.execute("SELECT rows_loaded FROM ops.partition_status").fetchone()[0] == 2
    # versions loaded before values as written were kept have none; reloading the partition changes nothing
    assert c.execute("SELECT count(*) FROM core.credit_record WHERE written IS NULL").fetchone()[0] == 2
    again = load(c, tmp_path, "scjgj", "2026-01", now=T0 + timedelta(days=1))
    assert (again.inserted_new, again.inserted_corrected, again.unchanged) == (0, 0, 2)


def test_first_load_then_identical_reload_changes_nothing(conn, tmp_path):
    rows = penalties([org(1, "罚1", legal_rep_name="王五", legal_rep_id_number=citizen_id(5)),
                      org(2, "罚2", penalty_types="警告、罚款"),
                      {"subject_name": "张三", "id_number": citizen_id(7), "decision_no": "罚3"}])
    stage(tmp_path, "scjgj", "2026-01", rows, sha="a")
    first = load(conn, tmp_path, "scjgj", "2026-01")
    assert (first.inserted_new, first.unchanged, first.subjects_new, first.versions_closed) == (3, 0, 3, 0)
    rec = conn.execute("SELECT category, end_date, severity, legal_rep_name, legal_rep_id, payload->>'decision_no' "
                       "FROM core.credit_record WHERE payload->>'decision_no' = '罚1'").fetchone()
    assert rec == ("罚款", date(2027, 1, 5), "一般", "王五", citizen_id(5), "罚1")
    before = snapshot_state(conn)
    again = load(conn, tmp_path, "scjgj", "2026-01", now=T0 + timedelta(days=1))
    assert (again.inserted_new, again.inserted_corrected, again.unchanged, again.subjects_new) == (0, 0, 3, 0)
    assert snapshot_state(conn) == before


def test_same_file_twice_and_in_another_partition_adds_no_duplicates(conn, tmp_path):
    rows = penalties([org(1, "罚1"), org(2, "罚2")])
    staged = stage(tmp_path, "scjgj", "2026-01", rows, sha="a", name="处罚.xlsx")
    load_partition(conn, department="scjgj", month="2026-01", staged=[staged, staged], now=T0, promote=PROMOTE)
    stage(tmp_path, "scjgj", "2026-02", rows, sha="a", name="处罚（副本）.xlsx")
    result = load(conn, tmp_path, "scjgj", "2026-02", now=T0 + timedelta(days=30))
    assert (result.inserted_new, result.unchanged) == (0, 2)
    assert conn.execute("SELECT count(*), count(DISTINCT record_id) FROM core.credit_record").fetchone() == (2, 2)
    assert conn.execute("SELECT count(*) FROM ops.submission").fetchone()[0] == 2


def test_resubmission_corrects_withdraws_and_adds(conn, tmp_path):
    stage(tmp_path, "scjgj", "2026-01", penalties([org(1, "罚1"), org(2, "罚2"), org(3, "罚3")]), sha="a")
    load(conn, tmp_path, "scjgj", "2026-01")
    (tmp_path / "staging/scjgj/2026-01" / f"{'a' * 64}.manifest.json").unlink()
    (tmp_path / "staging/scjgj/2026-01" / f"{'a' * 64}.parquet").unlink()
    stage(tmp_path, "scjgj", "2026-01", penalties([org(1, "罚1"), org(2, "罚2", fine_amount=9.5), org(4, "罚4")]),
          sha="b", at=T0 + timedelta(days=3))
    later = T0 + timedelta(days=3)
    result = load(conn, tmp_path, "scjgj", "2026-01", now=later)
    assert (result.inserted_new, result.inserted_corrected, result.withdrawn, result.unchanged,
            result.versions_closed) == (1, 1, 1, 1, 2)
    rows = {(d, v): (reason, valid_to, sub[-1])
            for d, v, reason, valid_to, sub in conn.execute(
                "SELECT payload->>'decision_no', version, change_reason, valid_to, submission_id "
                "FROM core.credit_record").fetchall()}
    assert rows[("罚1", 1)] == ("new", None, "a")                 # unchanged: untouched
    assert rows[("罚2", 1)] == ("new", later, "a")                # old version kept, closed
    assert rows[("罚2", 2)] == ("corrected", None, "b")
    assert rows[("罚3", 1)] == ("withdrawn", later, "a")
    assert rows[("罚4", 1)] == ("new", None, "b")
    assert conn.execute("SELECT count(*) FROM core.current_record").fetchone()[0] == 3
    status = dict(conn.execute("SELECT right(sha256, 1), status FROM ops.submission").fetchall())
    assert status == {"a": "superseded", "b": "accepted"}


def test_withdrawn_record_comes_back_reinstated(conn, tmp_path):
    stage(tmp_path, "scjgj", "2026-01", penalties([org(1, "罚1")]), sha="a")
    load(conn, tmp_path, "scjgj", "2026-01")
    stage(tmp_path, "scjgj", "2026-02", penalties([org(1, "罚1")]), sha="a")
    for path in (tmp_path / "staging/scjgj/2026-01").iterdir():
        path.unlink()
    load(conn, tmp_path, "scjgj", "2026-01", now=T0 + timedelta(days=1))
    result = load(conn, tmp_path, "scjgj", "2026-02", now=T0 + timedelta(days=2))
    assert result.inserted_new == 1
    assert conn.execute("SELECT version, change_reason, month FROM core.current_record").fetchone() == (
        2, "reinstated", "2026-02")


def test_other_partition_supersedes_changed_content_only(conn, tmp_path):
    stage(tmp_path, "scjgj", "2026-01", penalties([org(1, "罚1"), org(2, "罚2")]), sha="a")
    load(conn, tmp_path, "scjgj", "2026-01")
    stage(tmp_path, "fgw", "2026-03", penalties([org(1, "罚1"), org(2, "罚2", remarks="更正")]), sha="c")
    result = load(conn, tmp_path, "fgw", "2026-03", now=T0 + timedelta(days=40))
    assert (result.unchanged, result.inserted_corrected) == (1, 1)
    current = dict(conn.execute("SELECT payload->>'decision_no', department FROM core.current_record").fetchall())
    assert current == {"罚1": "scjgj", "罚2": "fgw"}


def test_batch_duplicates_lowest_row_of_latest_file_wins(conn, tmp_path):
    stage(tmp_path, "scjgj", "2026-01", penalties([org(1, "罚1", remarks="早"), org(2, "罚2")]), sha="a",
          name="一.xlsx")
    stage(tmp_path, "scjgj", "2026-01", penalties([org(1, "罚1", remarks="中"), org(1, "罚1", remarks="晚")]),
          sha="b", name="二.xlsx", at=T0 + timedelta(hours=1))
    result = load(conn, tmp_path, "scjgj", "2026-01")
    assert (result.rows_staged, result.batch_duplicates, result.inserted_new) == (4, 2, 2)
    assert conn.execute("SELECT payload->>'remarks', excel_row FROM core.credit_record "
                        "WHERE payload->>'decision_no' = '罚1'").fetchall() == [("晚", 3)]


def test_rejected_file_recorded_and_other_partition_loads(conn, tmp_path):
    write_rejected_file(tmp_path / "staging", "sthjj", "2026-01", file_name="损坏.xlsx", sha256="d" * 64,
                        received_at=T0, code="F_CORRUPT", message="文件已损坏，无法打开")
    problems = pa.table({"sheet": ["Sheet1"], "excel_row": [5], "excel_column": ["C"], "column": ["uscc"],
                         "header": ["统一社会信用代码"], "raw_value": ["91530502MA000001"], "code": ["E_USCC_LENGTH"],
                         "severity": ["error"], "message": ["统一社会信用代码应为18位"], "hint": ["请核对后重新填写"]})
    stage(tmp_path, "scjgj", "2026-01", penalties([org(1, "罚1")]), sha="a", rejections=problems, rows_rejected=1)
    bad = load(conn, tmp_path, "sthjj", "2026-01")
    good = load(conn, tmp_path, "scjgj", "2026-01")
    assert (bad.submissions, bad.inserted_new, good.inserted_new) == (1, 0, 1)
    subs = {d: (status, loaded, code, err) for d, status, loaded, code, err in conn.execute(
        "SELECT department, status, loaded_at, file_error_code, file_error FROM ops.submission").fetchall()}
    assert subs["sthjj"] == ("rejected", None, "F_CORRUPT", "文件已损坏，无法打开")
    assert subs["scjgj"][:2] == ("partial", T0)
    assert conn.execute("SELECT excel_row, column_name, code FROM ops.rejected_row").fetchall() == [
        (5, "uscc", "E_USCC_LENGTH")]
    load(conn, tmp_path, "scjgj", "2026-01")
    assert conn.execute("SELECT count(*) FROM ops.rejected_row").fetchone()[0] == 1


def test_failed_load_rolls_back_everything(conn, tmp_path):
    stage(tmp_path, "scjgj", "2026-01", penalties([org(1, "罚1")]), sha="a")
    load(conn, tmp_path, "scjgj", "2026-01")
    before = snapshot_state(conn)
    stage(tmp_path, "scjgj", "2026-02", penalties([org(2, "罚2")]), sha="b")
    broken = stage(tmp_path, "scjgj", "2026-02", penalties([org(3, "罚3")]), sha="c", at=T0 + timedelta(hours=1))
    broken.rows.write_bytes(b"PAR1 not really parquet")
    with pytest.raises(Exception):
        load(conn, tmp_path, "scjgj", "2026-02")
    assert snapshot_state(conn) == before
    broken.rows.unlink()
    broken.manifest_path.unlink()
    assert load(conn, tmp_path, "scjgj", "2026-02").inserted_new == 1


@pytest.mark.parametrize("legacy_first", [True, False])
def test_legacy_org_code_links_to_uscc(conn, tmp_path, legacy_first):
    legacy = penalties([{"subject_name": "保山市第7商贸公司", "org_code": org_code(7), "decision_no": "旧罚1",
                         "decision_date": date(2015, 6, 1)}])
    modern = penalties([org(7, "罚7", decision_date=date(2026, 1, 9))])
    first, second = (legacy, modern) if legacy_first else (modern, legacy)
    stage(tmp_path, "scjgj", "2026-01", first, sha="a")
    load(conn, tmp_path, "scjgj", "2026-01")
    stage(tmp_path, "scjgj", "2026-02", second, sha="b")
    load(conn, tmp_path, "scjgj", "2026-02", now=T0 + timedelta(days=30))
    assert conn.execute("SELECT merged_into, org_code FROM core.subject WHERE subject_id = ?",
                        [f"ORG:{org_code(7)}"]).fetchone() == (uscc(7), org_code(7))
    resolved = conn.execute("SELECT DISTINCT resolved_subject_id FROM core.current_record").fetchall()
    assert resolved == [(uscc(7),)]
    assert conn.execute("SELECT uscc_prefix, division_code, org_code, first_seen FROM core.subject "
                        "WHERE subject_id = ?", [uscc(7)]).fetchone() == ("91", "530502", org_code(7),
                                                                          date(2026, 1, 9))


def test_subject_names_and_dates(conn, tmp_path):
    pid = citizen_id(11, division="530581")
    rows = penalties([
        {"subject_name": "李四", "id_number": pid, "decision_no": "罚1", "decision_date": date(2025, 3, 1)},
        {"subject_name": "李 四", "id_number": pid, "decision_no": "罚2", "decision_date": date(2025, 9, 1)},
        {"subject_name": "李四", "id_number": pid, "decision_no": "罚3", "decision_date": date(2025, 9, 1)},
        {"subject_name": "李四", "id_number": pid, "decision_no": "罚4", "decision_date": date(2024, 1, 1)},
    ])
    stage(tmp_path, "gaj", "2026-01", rows, sha="a")
    load(conn, tmp_path, "gaj", "2026-01")
    got = conn.execute("SELECT subject_type, canonical_name, name_variants, division_code, uscc_prefix, "
                       "first_seen, last_seen FROM core.subject").fetchall()
    # latest date 2025-09-01 has both names; 李四 is on more records
    assert got == [("person", "李四", ["李 四", "李四"], "530581", None, date(2024, 1, 1), date(2025, 9, 1))]
    older = [{"subject_name": "李肆", "id_number": pid, "decision_no": "罚5", "decision_date": date(2023, 1, 1)}]
    stage(tmp_path, "gaj", "2026-02", penalties(older), sha="b")
    load(conn, tmp_path, "gaj", "2026-02")
    assert conn.execute("SELECT canonical_name, len(name_variants), first_seen FROM core.subject").fetchone() == (
        "李四", 3, date(2023, 1, 1))
    newer = [{"subject_name": "李思", "id_number": pid, "decision_no": "罚6", "decision_date": date(2025, 9, 1)}]
    stage(tmp_path, "gaj", "2026-03", penalties(newer), sha="c")
    load(conn, tmp_path, "gaj", "2026-03")
    assert conn.execute("SELECT canonical_name, last_seen FROM core.subject").fetchone() == ("李思", date(2025, 9, 1))


def test_repairs_and_objections_match_records_and_replace_per_partition(conn, tmp_path):
    stage(tmp_path, "scjgj", "2026-01", penalties([org(1, "罚1"), org(2, "罚2")]), sha="a")
    load(conn, tmp_path, "scjgj", "2026-01")

    def requests(rows):
        base = {"subject_code": None, "target_kind": "行政处罚", "target_ref": None,
                "received_date": date(2026, 2, 1), "decided_date": date(2026, 2, 10), "outcome": "修复",
                "reason": "已履行行政处罚决定并作出信用承诺"}
        full = [{**base, **r} for r in rows]
        types = {"received_date": pa.date32(), "decided_date": pa.date32()}
        return pa.table({k: pa.array([r[k] for r in full], types.get(k, pa.string())) for k in base})

    repair_key = ("subject_code", "target_kind", "target_ref")
    stage(tmp_path, "fgw", "2026-02", requests([{"subject_code": uscc(1), "target_ref": "罚1"},
                                                {"subject_code": uscc(2), "target_ref": "罚9"}]),
          sha="e", kind="credit_repair", key=repair_key, date_column="decided_date")
    stage(tmp_path, "fgw", "2026-02", requests([{"subject_code": uscc(2), "target_ref": "罚2", "outcome": None,
                                                 "decided_date": None}]),
          sha="f", kind="objection", key=repair_key, date_column="received_date")
    result = load(conn, tmp_path, "fgw", "2026-02")
    assert (result.repairs, result.objections, result.inserted_new) == (2, 1, 0)
    record = dict(conn.execute("SELECT payload->>'decision_no', record_id FROM core.credit_record").fetchall())
    repairs = dict(conn.execute("SELECT target_ref, record_id FROM core.repair").fetchall())
    assert repairs == {"罚1": record["罚1"], "罚9": None}
    assert conn.execute("SELECT record_id, outcome, subject_id FROM core.objection").fetchall() == [
        (record["罚2"], None, uscc(2))]
    for path in (tmp_path / "staging/fgw/2026-02").glob("e*"):
        path.unlink()
    load(conn, tmp_path, "fgw", "2026-02")
    assert conn.execute("SELECT count(*) FROM core.repair").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM core.objection").fetchone()[0] == 1


def test_a_repair_loaded_before_its_record_is_matched_when_the_record_arrives(conn, tmp_path):
    request = pa.table({"subject_code": [uscc(1)], "target_kind": ["行政处罚"], "target_ref": ["罚1"],
                        "received_date": pa.array([date(2026, 2, 1)]), "decided_date": pa.array([date(2026, 2, 10)]),
                        "outcome": ["修复"], "reason": ["已履行"]})
    stage(tmp_path, "fgw", "2026-02", request, sha="r", kind="credit_repair",
          key=("subject_code", "target_kind", "target_ref"), date_column="decided_date")
    load(conn, tmp_path, "fgw", "2026-02")
    assert conn.execute("SELECT record_id FROM core.repair").fetchall() == [(None,)]
    stage(tmp_path, "scjgj", "2026-01", penalties([org(1, "罚1")]), sha="a")
    load(conn, tmp_path, "scjgj", "2026-01")
    record_id = conn.execute("SELECT record_id FROM core.credit_record").fetchone()[0]
    assert conn.execute("SELECT record_id FROM core.repair").fetchall() == [(record_id,)]
