"""`bs-credit explain`: audited like lookup, Chinese output, --json, and an as-of date other than the built one is
computed in a rolled-back transaction (the warehouse keeps its lists)."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from bs_credit_pipeline.cli import main
from bs_credit_pipeline_tests.scenario_runner import Suite, load_scenarios

NAMES = ("rep-serious-list-by-platform-flagged", "list-legal-representative-measures")


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("BS_CREDIT_PSEUDONYM_KEY", "explain-key-not-secret-0123456789")
    s = Suite([x for x in load_scenarios() if x.name in NAMES], tmp_path_factory.mktemp("explain"))
    s.run()
    yield s
    mp.undo()


def _subject(suite, scenario: str, label: str) -> str:
    return next(s for s in suite.scenarios if s.name == scenario).subjects[label].code


def _audit(suite) -> list[tuple]:
    with duckdb.connect(str(suite.home.warehouse), read_only=True) as conn:
        return conn.execute("SELECT operator, purpose, subject_token, as_of, rows_shown FROM audit.explain").fetchall()


def test_explain_refuses_without_operator_and_purpose(suite, capsys):
    code = _subject(suite, NAMES[0], "A")
    assert main(["explain", code, "--home", str(suite.home.root), "--operator", "王科员"]) == 2
    assert "操作人" in capsys.readouterr().err
    assert _audit(suite) == []


def test_explain_audits_then_explains_in_chinese(suite, capsys):
    code = _subject(suite, NAMES[0], "A")
    built = max(d for _, d in suite.outcomes)
    assert main(["explain", code, "--as-of", built.isoformat(), "--operator", "王科员", "--purpose", "异议核查",
                 "--home", str(suite.home.root)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("已记录审计")
    assert "■ 黑名单（失信被执行人名单、严重失信主体名单）：在列" in out
    assert "严重失信主体名单：《国务院办公厅关于进一步完善失信约束制度构建诚信建设长效机制的指导意见》" in out
    assert "修复决定单位（fgw）不是该记录的认定单位（swj）" in out  # the flagged repair
    assert "□ 红名单：不在列。存在在效失信记录" in out
    audit = _audit(suite)
    assert len(audit) == 1 and audit[0][:2] == ("王科员", "异议核查") and audit[0][2] != code
    assert audit[0][3] == built and audit[0][4] == 1


def test_explain_json_for_another_date_leaves_the_lists_as_built(suite, capsys):
    code = _subject(suite, NAMES[1], "R")  # the legal representative of a listed company
    with duckdb.connect(str(suite.home.warehouse), read_only=True) as conn:
        before = conn.execute("SELECT DISTINCT as_of FROM mart.record_status").fetchall()
    assert main(["explain", code, "--as-of", "2025-02-01", "--json", "--operator", "王科员", "--purpose", "核查",
                 "--home", str(suite.home.root)]) == 0
    data = json.loads(capsys.readouterr().out)
    by_list = {i["list"]: i for i in data["lists"]}
    assert data["as_of"] == "2025-02-01"
    assert not by_list["punishment_measure"]["on"]  # the company was listed on 2025-03-01
    assert by_list["black_list"]["why_not"] == "平台没有该主体的信用记录"
    with duckdb.connect(str(suite.home.warehouse), read_only=True) as conn:
        assert conn.execute("SELECT DISTINCT as_of FROM mart.record_status").fetchall() == before
    assert main(["explain", code, "--as-of", "2025-06-01", "--json", "--operator", "王科员", "--purpose", "核查",
                 "--home", str(suite.home.root)]) == 0
    data = json.loads(capsys.readouterr().out)
    entries = next(i for i in data["lists"] if i["list"] == "punishment_measure")["entries"]
    assert {e["role"] for e in entries} == {"法定代表人"}
    assert {e["measure"] for e in entries} >= {"限制评先评优", "限制晋升提拔"}
    assert all(e["records"][0]["file_name"] and e["records"][0]["excel_row"] == 2 for e in entries)
    assert [a[3] for a in _audit(suite)][-2:] == [dt.date(2025, 2, 1), dt.date(2025, 6, 1)]
