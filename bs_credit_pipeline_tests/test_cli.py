"""The `bs-credit` command as a data officer and the credit office use it."""

from __future__ import annotations

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
    assert main(["check", str(good), "--home", str(tmp_path / "home")]) == 0
    out = capsys.readouterr().out
    assert "全部通过" in out and "读取 2 行 = 入库 2 行 + 退回 0 行" in out and "校验报告" in out
    bad = write_xlsx(folder / "坏.xlsx", [penalty_row(0, decision_no=None)])
    assert main(["check", str(bad), "--home", str(tmp_path / "home")]) == 1
    out = capsys.readouterr().out
    assert "整体退回" in out and "E_REQUIRED" in out
    assert list((tmp_path / "home" / "outbox" / "scjgj" / "2026-10").glob("坏_校验报告_*.xlsx"))


def test_lookup_refuses_without_operator_and_purpose(tmp_path, capsys):
    assert main(["lookup", "530502199001011234", "--home", str(tmp_path)]) == 2
    assert "操作人" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["check", "/nonexistent/file.xlsx"]])
def test_missing_file(argv, capsys):
    assert main(argv) == 2
    assert "找不到文件" in capsys.readouterr().err
