"""reports.write_report: the annotated copy sent back to a department (read back with openpyxl)."""

from __future__ import annotations

import openpyxl
import pyarrow as pa
import pytest

from bs_credit_pipeline.intake.report import (
    DETAIL_HEADERS,
    DETAIL_SHEET,
    EXPLAIN_HEADER,
    GAP_HEADER,
    SUMMARY_SHEET,
    ArrowRows,
    ReportSheet,
    write_report,
)

RED = "FFFFC7CE"
YELLOW = "FFFFEB9C"
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def citizen_id(body17: str) -> str:
    """Synthetic GB 11643 citizen ID with a valid check character."""
    total = sum(int(d) * w for d, w in zip(body17, _ID_WEIGHTS))
    return body17 + "10X98765432"[total % 11]


PERSON_ID = citizen_id("53050219900101123")
PHONE = "13800000000"  # in the file's dropped 联系电话 column: must never reach the report

HEADERS = ["行政相对人名称", "行政相对人类别", "证件号码", "处罚决定书文号", "罚款金额（万元）"]
LETTERS = ["A", "B", "D", "E", "F"]  # column C (联系电话) was dropped at intake
ROWS = [
    (3, ["保山某某商贸有限公司", "法人及非法人组织", "", "保市监罚〔2026〕1号", "0.5"]),
    (4, ["张三", "自然人", PERSON_ID[:-1] + "0", "保市监罚〔2026〕2号", "1"]),
    (5, ["李四", "自然人", PERSON_ID, "保市监罚〔2026〕3号", "00012"]),
    (8, ["王五", "自然人", PERSON_ID, "", "2"]),
]


def _problem(row, column, header, raw, code, severity, message, hint):
    return {"sheet": "处罚", "excel_row": row, "excel_column": column, "header": header, "raw_value": raw,
            "code": code, "severity": severity, "message": message, "hint": hint}


PROBLEMS = [
    _problem(4, "D", "证件号码", PERSON_ID[:-1] + "0", "E_CITIZEN_ID_CHECK", "error",
             "证件号码校验位错误", "请核对18位身份证号码，单元格设为文本后重新录入"),
    _problem(5, "F", "罚款金额（万元）", "00012", "W_LEADING_ZERO", "warning", "罚款金额有前导零", "请核实金额"),
    _problem(8, "E", "处罚决定书文号", "", "E_REQUIRED", "error", "处罚决定书文号不能为空", "请填写决定书文号"),
    _problem(8, None, None, None, "E_DUPLICATE_KEY", "error", "与第 5 行重复", "删除重复的行"),
    # A (buggy) problem pointing at the dropped column: its raw value must not be shown.
    _problem(3, "C", "联系电话", PHONE, "W_SOMETHING", "warning", "无关列", ""),
]

SUMMARY = {
    "rows_read": 4, "rows_loaded": 2, "rows_rejected": 2, "rows_skipped": 3, "status": "partial",
    "file_error": None,
    "error_counts": {"E_CITIZEN_ID_CHECK": 1, "E_REQUIRED": 1, "E_DUPLICATE_KEY": 1},
    "warning_counts": {"W_LEADING_ZERO": 1},
    "code_titles": {"E_CITIZEN_ID_CHECK": "身份证号码校验位错误", "E_REQUIRED": "必填项为空",
                    "E_DUPLICATE_KEY": "重复记录", "W_LEADING_ZERO": "数字有前导零"},
    "dropped_columns": ["联系电话"], "hidden_sheets": ["旧数据"], "kind_title": "行政处罚",
    "processed_at": "2026-10-31T18:00:00+00:00",
}


def _write(tmp_path, sheets, problems=PROBLEMS, summary=SUMMARY, **kwargs):
    path = write_report(
        tmp_path / "out" / "report.xlsx", file_name="2026年10月行政处罚.xlsx", department_name="保山市市场监督管理局",
        month="2026-10", kind_title="行政处罚", sheets=sheets, problems=problems, summary=summary, **kwargs)
    return openpyxl.load_workbook(path)


def _texts(ws) -> list[str]:
    return [c.value for row in ws.iter_rows() for c in row if c.value is not None]


@pytest.fixture()
def report(tmp_path):
    return _write(tmp_path, [ReportSheet("处罚", HEADERS, LETTERS, ROWS)])


def test_sheets_and_original_positions(report):
    assert report.sheetnames == [SUMMARY_SHEET, "处罚", DETAIL_SHEET]
    ws = report["处罚"]
    assert [ws[f"{c}1"].value for c in "ABCDEFG"] == [*HEADERS[:2], GAP_HEADER, *HEADERS[2:], EXPLAIN_HEADER]
    # Every row sits at its original Excel row and column; rows that were not data are hidden.
    assert ws["A3"].value == "保山某某商贸有限公司" and ws["E4"].value == "保市监罚〔2026〕2号"
    assert ws["A2"].value is None and ws["A6"].value is None
    assert ws.sheet_format.zeroHeight
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:G8"


def test_bad_cells_are_filled_and_commented(report):
    ws = report["处罚"]
    bad = ws["D4"]
    assert bad.value == PERSON_ID[:-1] + "0"
    assert bad.fill.fgColor.rgb == RED
    assert "证件号码校验位错误" in bad.comment.text and "单元格设为文本" in bad.comment.text
    warn = ws["F5"]
    assert warn.fill.fgColor.rgb == YELLOW and "前导零" in warn.comment.text
    empty = ws["E8"]  # a required cell left blank is still highlighted
    assert empty.value is None and empty.fill.fgColor.rgb == RED and empty.comment is not None
    assert ws["A4"].comment is None and ws["A4"].fill.fill_type is None


def test_explanation_column(report):
    ws = report["处罚"]
    assert ws["G3"].value == "【提示】联系电话：无关列"  # message only, never the raw value
    assert ws["G4"].value == "【错误】证件号码：证件号码校验位错误"
    assert ws["G5"].value == "【提示】罚款金额（万元）：罚款金额有前导零"
    assert ws["G8"].value == "【错误】处罚决定书文号：处罚决定书文号不能为空；【错误】与第 5 行重复"
    assert ws["G8"].font.color.rgb == "FFC00000"  # rejected row in red
    assert ws["G5"].font.color.rgb != "FFC00000"


def test_every_cell_is_text(report):
    for ws in report:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.value is None or isinstance(cell.value, str), (ws.title, cell.coordinate)
    ws = report["处罚"]
    assert ws["F5"].value == "00012" and ws["D5"].value == PERSON_ID
    assert ws["D5"].number_format == "@"


def test_dropped_column_never_shown(report):
    for ws in report:
        assert PHONE not in " ".join(_texts(ws))
    assert "联系电话" not in _texts(report["处罚"])
    summary = " ".join(_texts(report[SUMMARY_SHEET]))
    assert "· 联系电话" in summary and "不采集" in summary and "未入库" in summary


def test_summary_counts_and_tables(report):
    ws = report[SUMMARY_SHEET]
    texts = _texts(ws)
    pairs = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, ws.max_row + 1)}
    assert texts[0] == "保山市公共信用信息平台 数据校验报告"
    assert pairs["文件名"] == "2026年10月行政处罚.xlsx"
    assert pairs["报送单位"] == "保山市市场监督管理局" and pairs["月份"] == "2026-10"
    assert pairs["数据类别"] == "行政处罚" and pairs["校验结果"] == "部分通过"
    assert pairs["处理时间"] == "2026-11-01 02:00:00"  # Asia/Shanghai
    assert (pairs["读取行数"], pairs["入库行数"], pairs["退回行数"], pairs["跳过的空行和表尾行"]) == ("4", "2", "2", "3")
    assert pairs["核对：读取 = 入库 + 退回"] == "4 = 2 + 2"
    by_type = {ws.cell(r, 1).value: (ws.cell(r, 3).value, ws.cell(r, 4).value) for r in range(1, ws.max_row + 1)}
    assert by_type["身份证号码校验位错误"] == ("1", "请核对18位身份证号码，单元格设为文本后重新录入")
    assert by_type["数字有前导零"][0] == "1"
    assert "· 旧数据" in texts  # hidden sheet listed


def test_detail_sheet(report):
    ws = report[DETAIL_SHEET]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[0] == DETAIL_HEADERS
    assert len(rows) == 1 + len(PROBLEMS)
    assert rows[1][:5] == ["处罚", "3", "C", "联系电话", None]  # dropped column: raw value withheld
    assert rows[2] == ["处罚", "4", "D", "证件号码", PERSON_ID[:-1] + "0", "身份证号码校验位错误", "错误",
                       "证件号码校验位错误", "请核对18位身份证号码，单元格设为文本后重新录入"]
    assert [r[1:3] for r in rows[4:]] == [["8", "（整行）"], ["8", "E"]]


def test_problems_as_arrow_table_and_rows_as_arrow(tmp_path):
    table = pa.table({f"c{i}": [cells[i] or None for _, cells in ROWS] for i in range(len(HEADERS))})
    rows = ArrowRows(table, [r for r, _ in ROWS])
    problems = pa.Table.from_pylist(PROBLEMS).append_column("column", pa.nulls(len(PROBLEMS), pa.string()))
    wb = _write(tmp_path, [{"name": "处罚", "headers": HEADERS, "excel_columns": LETTERS, "rows": rows}], problems)
    ws = wb["处罚"]
    assert ws["D4"].comment is not None and ws["A8"].value == "王五"
    assert ws["G8"].value.endswith("与第 5 行重复")


def test_file_level_rejection(tmp_path):
    summary = {"rows_read": 0, "rows_loaded": 0, "rows_rejected": 0, "rows_skipped": 0, "status": "rejected",
               "file_error": {"code": "F_ENCRYPTED", "message": "文件设置了打开密码，无法读取",
                              "hint": "请取消密码保护后重新报送"},
               "error_counts": {}, "code_titles": {}, "dropped_columns": [], "hidden_sheets": [],
               "kind_title": None, "processed_at": "2026-11-01T02:00:00+08:00"}
    wb = _write(tmp_path, [], problems=[], summary=summary)
    assert wb.sheetnames == [SUMMARY_SHEET]
    ws = wb[SUMMARY_SHEET]
    texts = _texts(ws)
    assert "文件被整体退回，未导入任何数据" in texts
    reason = next(c for row in ws.iter_rows() for c in row if c.value == "原因：文件设置了打开密码，无法读取")
    assert reason.font.b and reason.font.sz >= 14
    assert "如何修改：请取消密码保护后重新报送" in texts
    assert "整体退回" in texts


def test_file_level_rejection_with_problem_has_detail(tmp_path):
    summary = {**SUMMARY, "status": "rejected", "file_error": {"message": "缺少必填列", "hint": "请使用模板"}}
    problem = {**PROBLEMS[0], "sheet": None, "excel_row": None, "excel_column": None}
    wb = _write(tmp_path, [], problems=[problem], summary=summary)
    assert wb.sheetnames == [SUMMARY_SHEET, DETAIL_SHEET]


def test_large_sheet_copies_only_problem_rows(tmp_path):
    rows = [(r, [f"单位{r}", "法人及非法人组织", "", f"文号{r}", "1"]) for r in range(2, 14)]
    problems = [_problem(r, "E", "处罚决定书文号", f"文号{r}", "E_X", "error", "错", "改") for r in (5, 11)]
    # A generator (no len): the writer buffers just enough rows to decide.
    wb = _write(tmp_path, [{"name": "处罚", "headers": HEADERS, "excel_columns": LETTERS, "rows": iter(rows)}],
                problems=problems, full_copy_max_rows=5)
    ws = wb["处罚"]
    written = [r for r in range(2, 14) if ws.cell(r, 1).value is not None]
    assert written == [5, 11]
    assert ws["A11"].value == "单位11" and ws["E11"].comment is not None
    assert any("共 12 行，超过 5 行" in t and "有问题的 2 行" in t for t in _texts(wb[SUMMARY_SHEET]))


def test_large_sheet_without_problems_copies_no_row(tmp_path):
    rows = [(r, [f"单位{r}", "", "", "", ""]) for r in range(2, 9)]
    wb = _write(tmp_path, [ReportSheet("处罚", HEADERS, LETTERS, rows)], problems=[], full_copy_max_rows=5)
    ws = wb["处罚"]
    assert ws["A1"].value == HEADERS[0] and all(ws.cell(r, 1).value is None for r in range(2, 9))


def test_full_copy_at_the_threshold(tmp_path):
    rows = [(r, [f"单位{r}", "", "", "", ""]) for r in range(2, 7)]
    wb = _write(tmp_path, [ReportSheet("处罚", HEADERS, LETTERS, rows)], problems=[], full_copy_max_rows=5)
    assert [wb["处罚"].cell(r, 1).value for r in range(2, 7)] == [f"单位{r}" for r in range(2, 7)]


def test_comment_cap(tmp_path):
    rows = [(r, [f"单位{r}", "", "", "", ""]) for r in range(2, 7)]
    problems = [_problem(r, "A", "行政相对人名称", f"单位{r}", "E_X", "error", "错", "改") for r in range(2, 7)]
    wb = _write(tmp_path, [ReportSheet("处罚", HEADERS, LETTERS, rows)], problems=problems, max_comments_per_sheet=2)
    ws = wb["处罚"]
    assert [ws.cell(r, 1).comment is not None for r in range(2, 7)] == [True, True, False, False, False]
    assert all(ws.cell(r, 1).fill.fgColor.rgb == RED for r in range(2, 7))
    assert any("只有前 2 个加了批注" in t for t in _texts(wb[SUMMARY_SHEET]))


def test_sheet_name_clash_is_renamed_and_noted(tmp_path):
    wb = _write(tmp_path, [ReportSheet(SUMMARY_SHEET, HEADERS, LETTERS, ROWS[:1])], problems=[])
    assert wb.sheetnames == [SUMMARY_SHEET, f"{SUMMARY_SHEET}(2)"]
    assert any("在本报告中名为" in t for t in _texts(wb[SUMMARY_SHEET]))


def test_rows_out_of_order_are_refused(tmp_path):
    with pytest.raises(ValueError, match="ascending"):
        _write(tmp_path, [ReportSheet("处罚", HEADERS, LETTERS, [ROWS[1], ROWS[0]])], problems=[])


def test_code_facts_are_the_first_severity_and_hint_given_per_code():
    from bs_credit_pipeline.intake.report import PROBLEM_SCHEMA, _code_facts

    rows = [("E_DATE_FORMAT", "error", None), ("E_ENUM", "error", "从下拉列表中选择"), (None, "error", "无代码"),
            ("E_DATE_FORMAT", "warning", "按 YYYY-MM-DD 填写"), ("W_X", None, None), ("E_ENUM", "warning", "另一条")]
    table = pa.Table.from_pylist([dict(zip(("code", "severity", "hint"), r)) for r in rows], schema=PROBLEM_SCHEMA)
    chunked = pa.concat_tables([table.slice(0, 2), table.slice(2)])  # two chunks, as intake's runs give
    expected = {"E_DATE_FORMAT": ("error", "按 YYYY-MM-DD 填写"), "E_ENUM": ("error", "从下拉列表中选择"), "W_X": ("", "")}
    assert _code_facts(table) == _code_facts(chunked) == expected
    assert _code_facts(table.slice(0, 0)) == {}
