"""`bs-credit status`: the department × month grid. Outcomes worked out by hand: 2026-10's data is due by
2026-11-10 and 2026-11's by 2026-12-10 (scorecard.yaml deadline: months_after 1, day 10); today is 2026-11-20."""

from __future__ import annotations

import datetime as dt

import pytest

from bs_credit_pipeline.config import ConfigError
from bs_credit_pipeline.status import expectations, grid, render
from bs_credit_pipeline.warehouse import schema

SH = dt.timezone(dt.timedelta(hours=8))
TODAY = dt.date(2026, 11, 20)
NAMES = {"scjgj": "保山市市场监督管理局", "fy": "保山市中级人民法院", "swj": "国家税务总局保山市税务局",
         "gaj": "保山市公安局", "wmb": "中共保山市委宣传部", "tcs": "腾冲市"}
EXPECTED = {"scjgj": "2026-01", "fy": "2026-01", "swj": "2026-01", "gaj": "2026-01", "wmb": None, "tcs": "2026-11"}


def _submission(conn, dept, month, name, received, status="accepted", error=None, read=0, loaded=0, rejected=0):
    conn.execute("INSERT INTO ops.submission (submission_id, department, month, file_name, sha256, received_at, "
                 "processed_at, status, rows_read, rows_loaded, rows_rejected, rows_skipped, file_error_code) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
                 [f"{dept}|{month}|{name}", dept, month, name, name, received, received, status, read, loaded,
                  rejected, error])


def test_the_grid_says_who_sent_what_and_who_is_late_or_missing(tmp_path):
    conn = schema.connect(tmp_path / "w.duckdb")
    schema.migrate(conn)
    _submission(conn, "scjgj", "2026-10", "处罚.xlsx", dt.datetime(2026, 11, 10, 23, 0, tzinfo=SH), read=10, loaded=8,
                rejected=2)
    _submission(conn, "fy", "2026-10", "失信.csv", dt.datetime(2026, 11, 12, 9, 0, tzinfo=SH), read=5, loaded=5)
    _submission(conn, "swj", "2026-10", "表.xlsx", dt.datetime(2026, 11, 3, 9, 0, tzinfo=SH), status="rejected",
                error="F_UNKNOWN_KIND")
    _submission(conn, "wmb", "2026-10", "志愿.csv", dt.datetime(2026, 11, 1, 9, 0, tzinfo=SH), read=3, loaded=3)
    cells = grid(conn, NAMES, ["2026-10", "2026-11"], EXPECTED, TODAY, runs={("scjgj", "2026-10"): "成功"})
    got = {(c.department, c.month): c.state for c in cells}
    assert got == {
        ("scjgj", "2026-10"): "按时", ("fy", "2026-10"): "逾期 2 天", ("swj", "2026-10"): "整体退回，未完成报送",
        ("gaj", "2026-10"): "未报送", ("wmb", "2026-10"): "按时",  # not expected monthly, but it did send
        ("scjgj", "2026-11"): "待报送（截止 2026-12-10）", ("fy", "2026-11"): "待报送（截止 2026-12-10）",
        ("swj", "2026-11"): "待报送（截止 2026-12-10）", ("gaj", "2026-11"): "待报送（截止 2026-12-10）",
        ("tcs", "2026-11"): "待报送（截止 2026-12-10）",  # expected from 2026-11 on: not in 2026-10
    }
    scjgj = next(c for c in cells if (c.department, c.month) == ("scjgj", "2026-10"))
    assert (scjgj.rows_read, scjgj.rows_loaded, scjgj.rows_rejected, scjgj.run) == (10, 8, 2, "成功")
    text = render(cells)
    assert "保山市市场监督管理局：按时｜收到：处罚.xlsx（11-10 23:00）｜读取 10 行，入库 8 行，退回 2 行｜最近运行：成功" in text
    assert text.index("【2026-10】") < text.index("【2026-11】")


def test_expected_comes_from_departments_yaml_with_a_default(tmp_path):
    path = tmp_path / "departments.yaml"
    path.write_text('expected_default: {from: "2026-01"}\ndepartments:\n  - {code: a}\n'
                    '  - {code: b, expected: none}\n  - {code: c, expected: {from: "2026-06"}}\n', encoding="utf-8")
    assert expectations(path) == {"a": "2026-01", "b": None, "c": "2026-06"}
    path.write_text("departments:\n  - {code: a, expected: {from: 2026-6}}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="expected"):
        expectations(path)
    assert set(expectations()) >= set(NAMES)  # the project's file parses, every department has an entry


def test_bs_credit_status_prints_the_grid_with_names_and_run_states(loaded_home, tmp_path, monkeypatch, capsys):
    from bs_credit_pipeline.cli import main
    from bs_credit_pipeline_tests import faultkit

    home = faultkit.loaded_copy(loaded_home, tmp_path)
    for var in ("BS_CREDIT_HOME", "DAGSTER_HOME"):  # status sets them; monkeypatch restores them
        monkeypatch.setenv(var, "")
    assert main(["status", "--home", str(home.root), "--month", "2026-10"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if "保山市市场监督管理局" in x)
    assert "读取 3 行，入库 3 行，退回 0 行" in line and "最近运行：成功" in line and "处罚.csv" in line
    assert "【2026-10】" in out and "保山市中级人民法院：" in out  # expected, nothing received
    assert main(["status", "--home", str(home.root), "--month", "2026-13"]) == 2
    assert "2026-13" in capsys.readouterr().err
