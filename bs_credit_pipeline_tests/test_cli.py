"""The `bs-credit` command as a data officer and the credit office use it."""

from __future__ import annotations

import gc

import openpyxl
import pytest

from bs_credit_pipeline.cli import main
from bs_credit_pipeline_tests.test_intake import penalty_row, write_xlsx


def test_template_command_writes_a_workbook(tmp_path, capsys):
    out = tmp_path / "penalty.xlsx"
    assert main(["template", "行政处罚", "-o", str(out)]) == 0
    wb = openpyxl.load_workbook(out)
    assert "填报说明" in wb.sheetnames and "行政处罚" in wb.sheetnames
    assert "模板已生成" in capsys.readouterr().out


def test_template_command_rejects_an_unknown_kind(capsys):
    assert main(["template", "不存在的类别"]) == 2
    assert "可选" in capsys.readouterr().err


def test_check_exit_codes_and_summary(tmp_path, capsys):
    folder = tmp_path / "inbox" / "scjgj" / "2026-10"
    folder.mkdir(parents=True)
    good = write_xlsx(folder / "好.xlsx", [penalty_row(0), penalty_row(1)])
    assert main(["check", str(good)]) == 0
    assert gc.isenabled()  # off during check's imports and set-up only
    out = capsys.readouterr().out
    assert "全部通过" in out and "读取 2 行 = 入库 2 行 + 退回 0 行" in out and "校验报告" in out
    assert "报送单位：保山市市场监督管理局" in out and "数据类别：行政处罚" in out
    bad = write_xlsx(folder / "坏.xlsx", [penalty_row(0, decision_no=None)])
    assert main(["check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "整体退回" in out and "错误：必填项为空（E_REQUIRED）1 处" in out
    report = next(folder.glob("坏_校验报告_*.xlsx"))  # next to the checked file
    assert f"校验报告：{report}" in out


def test_check_writes_to_out_and_validates_department_and_month_before_writing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    desk = tmp_path / "桌面"
    desk.mkdir()
    path = write_xlsx(desk / "处罚.xlsx", [penalty_row(0)])
    for argv, complaint in ((["--month", "../../.."], "月份“../../..”无效"), (["--month", "2026-13"], "月份“2026-13”无效"),
                            ([], "无法确定报送单位“桌面”")):
        assert main(["check", str(path), *argv]) == 2
        assert complaint in capsys.readouterr().err and gc.isenabled()
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["处罚.xlsx"]  # nothing written anywhere
    out = tmp_path / "报告"
    assert main(["check", str(path), "--department", "市工商局", "--month", "2026-10", "--out", str(out)]) == 0
    assert len(list(out.glob("处罚_校验报告_*.xlsx"))) == 1 and not (tmp_path / "var").exists()
    assert main(["check", str(desk)]) == 2 and "是一个文件夹" in capsys.readouterr().err


def test_lookup_refuses_without_operator_and_purpose(tmp_path, capsys):
    assert main(["lookup", "530502199001011234", "--home", str(tmp_path)]) == 2
    assert "操作人" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["check", "/nonexistent/file.xlsx"]])
def test_missing_file(argv, capsys):
    assert main(argv) == 2
    assert "找不到文件" in capsys.readouterr().err


def test_lookup_writes_the_audit_row_before_showing_records(tmp_path, capsys, monkeypatch):
    import duckdb

    from bs_credit_pipeline.contracts import Registry
    from bs_credit_pipeline.intake import Intake
    from bs_credit_pipeline.paths import Home
    from bs_credit_pipeline.pipeline import load_into_warehouse

    monkeypatch.setenv("BS_CREDIT_PSEUDONYM_KEY", "test-key-not-secret-0123456789")
    home = Home(tmp_path / "home").ensure()
    row = penalty_row(3, person=True)
    Intake(Registry.load(), home).run(write_xlsx(tmp_path / "处罚.xlsx", [row]), department="scjgj", month="2026-10")
    load_into_warehouse(home, Registry.load(), "scjgj", "2026-10")
    typed = row["id_number"].lower() + " "  # as an operator might type it
    assert main(["lookup", typed, "--operator", "王科员", "--purpose", "信用修复申请核查", "--home", str(home.root)]) == 0
    out = capsys.readouterr().out
    assert "已记录审计" in out and "共 1 条记录" in out and row["decision_no"] in out
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        audit = conn.execute("SELECT operator, purpose, subject_token, rows_shown FROM audit.lookup").fetchall()
    assert audit[0][:2] == ("王科员", "信用修复申请核查") and audit[0][3] == 1
    assert audit[0][2].startswith("P_") and row["id_number"] not in audit[0][2]


def test_list_summary_counts_the_lists_and_not_the_bookkeeping(tmp_path, capsys):
    import datetime as dt

    from bs_credit_pipeline.cli import _print_lists
    from bs_credit_pipeline.paths import Home
    from bs_credit_pipeline.pipeline import build_lists

    home = Home(tmp_path / "home").ensure()
    build_lists(home, dt.date(2026, 11, 30))
    build_lists(home, dt.date(2026, 12, 1))  # the nightly update, which keeps mart.build_basis
    _print_lists(home, dt.date(2026, 12, 1))
    out = capsys.readouterr().out
    assert "mart.black_list: 0" in out and "mart.integrity_score: 0" in out
    assert "build_basis" not in out
