"""A record written with a synonym or an older official wording reaches the same lists as one written with the
canonical value: the rules only ever see canonical values. Expected by hand: each pair below differs only in its
wording, so both records of a pair get the same list entries, tiers and display periods."""

from __future__ import annotations

import datetime as dt

import duckdb
import openpyxl
import pytest

from bs_credit_pipeline.defs.run import run_pipeline
from bs_credit_pipeline.demo import make_uscc
from bs_credit_pipeline.paths import Home
from bs_credit_pipeline_tests.test_intake import REGISTRY, penalty_row, write_xlsx

AS_OF = dt.date(2026, 11, 27)
A, B, C, D = (make_uscc(9100 + i) for i in range(4))


@pytest.fixture
def home(tmp_path, monkeypatch) -> Home:
    monkeypatch.setenv("BS_CREDIT_PSEUDONYM_KEY", "test-key-not-secret-0123456789")
    return Home(tmp_path / "home").ensure()


def _good_records(path, rows: list[dict]) -> None:
    contract = REGISTRY.contracts["good_record"]
    names = ["subject_name", "subject_code", "honour_type", "granting_unit", "grant_doc_no", "grant_date", "valid_until"]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([contract.column(n).header for n in names])
    for row in rows:
        ws.append([row[n] for n in names])
    wb.save(path)


def test_synonyms_and_legacy_wordings_reach_the_same_lists(home):
    swj = home.inbox / "swj" / "2026-10"
    swj.mkdir(parents=True)
    good = {"granting_unit": "国家税务总局保山市税务局", "grant_date": "2026-10-20", "valid_until": "2027-10-19"}
    _good_records(swj / "A级纳税人.xlsx", [
        {"subject_name": "甲公司", "subject_code": A, "honour_type": "A级纳税人", "grant_doc_no": "保税〔2026〕1号", **good},
        {"subject_name": "乙公司", "subject_code": B, "honour_type": "纳税信用A级", "grant_doc_no": "保税〔2026〕2号", **good},
    ])
    scjgj = home.inbox / "scjgj" / "2026-10"
    scjgj.mkdir(parents=True)
    write_xlsx(scjgj / "处罚.xlsx", [
        penalty_row(1, subject_name="丙公司", uscc=C, penalty_types="罚款、吊销许可证件"),
        penalty_row(2, subject_name="丁公司", uscc=D, penalty_types="吊销执照，罚款"),  # pre-2021 wording, comma
    ])
    assert run_pipeline(home, AS_OF, progress=False).nightly_success
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        red = dict(conn.execute("SELECT subject_id, rule_id FROM mart.red_list").fetchall())
        status = {r[0]: r[1:] for r in conn.execute(
            "SELECT subject_id, category, severity_tier, status, display_max_end FROM mart.record_status "
            "WHERE kind = 'admin_penalty'").fetchall()}
        stored = dict(conn.execute("SELECT subject_id, category FROM core.credit_record "
                                   "WHERE kind = 'good_record'").fetchall())
    assert set(red) == {A, B} and red[A] == red[B]
    assert stored == {A: "A级纳税人", B: "A级纳税人"}
    assert status[C] == status[D] and status[C][:3] == ("罚款、吊销许可证件", "serious", "active")
