"""What a data officer sees in an annotated report, read back with openpyxl, as plain JSON-able data.

`python -m bs_credit_pipeline_tests.report_content` records the content of the reports of `CASES` into
fixtures/report_content.json; test_report_content.py writes the same reports again and compares. The recording
was made with the previous writer (xlsxwriter), so the comparison holds the current writer to the same content.
Print settings are recorded too but compared by the test against the required page setup, which the previous
writer did not fully have.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
RECORDING = FIXTURES / "report_content.json"
TODAY = dt.date(2026, 11, 27)
TIME_LABEL = "处理时间"

PENALTY_HEADERS = ["行政相对人名称", "行政相对人类别", "统一社会信用代码", "证件类型", "证件号码", "联系电话",
                   "行政处罚决定书文号", "违法行为类型", "违法事实", "处罚依据", "处罚类别", "处罚内容", "罚款金额（万元）",
                   "处罚决定日期", "处罚有效期", "处罚机关", "处罚机关统一社会信用代码", "数据来源单位", "数据来源单位统一社会信用代码"]


def bad_penalty_csv(path: Path) -> Path:
    """A 行政处罚 CSV with the mistakes offices make: a bad check character, a missing required value, a bad date,
    a repeated decision number, an unknown category, a phone column the standard does not collect, a blank row."""
    from bs_credit_pipeline.demo import make_citizen_id, make_uscc

    authority = make_uscc(1, prefix="11", division="530500")
    org, person = make_uscc(7), make_citizen_id(7, birth=dt.date(1980, 5, 1))
    bad_person = person[:-1] + ("0" if person[-1] != "0" else "1")

    def row(i, name="保山市某某商贸有限公司", kind="法人及非法人组织", uscc=org, id_type="", id_no="", doc=None,
            category="罚款", amount="0.5", date="2026-10-08"):
        return [name, kind, uscc, id_type, id_no, "13800000000", doc or f"保市监罚〔2026〕{i}号", "销售不合格商品",
                "经查，当事人销售不合格商品。", "《中华人民共和国产品质量法》第四十九条", category, "罚款人民币五千元", amount,
                date, "2027-10-07", "保山市市场监督管理局", authority, "保山市市场监督管理局", authority]

    rows = [
        row(1),
        row(2, name="张三", kind="自然人", uscc="", id_type="身份证", id_no=bad_person),
        row(3, name="李四", kind="自然人", uscc="", id_type="身份证", id_no=person, amount="00012"),
        row(4, doc=""),
        ["" for _ in PENALTY_HEADERS],
        row(5, date="2026-13-40"),
        row(1),
        row(6, category="没收违法所得、罚款、警告"),
        row(7, category="记大过"),
        row(8, uscc="91530502ABCDEFGHIJ"),
    ]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(PENALTY_HEADERS)
        writer.writerows(rows)
    return path


def cases(corpus: Path | None) -> dict[str, Path | None]:
    """Case name -> input file (None: the case is written by the test itself, not from a file)."""
    office = FIXTURES / "office"
    found = {p.name: p for p in sorted(office.iterdir()) if p.suffix in (".xls", ".xlsx")}
    found["gb18030.csv"] = FIXTURES / "gb18030.csv"
    found["html_saved_as.xls"] = FIXTURES / "html_saved_as.xls"
    found["bad_penalty.csv"] = None
    if corpus is not None:
        for name in ("merge_cells.xlsx", "no-header.xlsx", "pass_protected.xlsx"):
            found[f"corpus/{name}"] = corpus / name
    return found


def run_check(source: Path, out_dir: Path, department: str = "scjgj", month: str = "2026-10") -> Path:
    """The report `bs-credit check` writes for `source` (dry run: staging thrown away)."""
    from bs_credit_pipeline.contracts import Registry
    from bs_credit_pipeline.intake import Intake
    from bs_credit_pipeline.paths import Home

    with tempfile.TemporaryDirectory() as scratch:
        result = Intake(Registry.load(), Home(Path(scratch)).ensure()).run(
            source, department=department, month=month, today=TODAY, out_dir=out_dir)
    assert result.report_path is not None, source
    return result.report_path


def report_of(name: str, source: Path | None, work: Path) -> Path:
    if source is None:
        source = bad_penalty_csv(work / "2026年10月行政处罚.csv")
    department = "fy" if "失信被执行人" in name else "fgw" if name == "gb18030.csv" else "scjgj"
    return run_check(source, work / "out", department=department)


def _color(c) -> str | None:
    if c is None or c.type != "rgb" or c.rgb in (None, "00000000", "FF000000"):
        return None
    return str(c.rgb)


def report_content(path: Path) -> dict:
    """Sheets, values, comments, marked cells, layout and print settings of a report."""
    wb = openpyxl.load_workbook(path)
    sheets = []
    for ws in wb.worksheets:
        cells, comments, fills, fonts, not_text = {}, {}, {}, {}, []
        time_row = None
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    cells[c.coordinate] = c.value if isinstance(c.value, str) else repr(c.value)
                    if c.value == TIME_LABEL:
                        time_row = c.row
                    if c.number_format != "@" and ws.title not in ("汇总",):
                        not_text.append(c.coordinate)
                if c.comment is not None:
                    comments[c.coordinate] = {"text": c.comment.text, "author": c.comment.author}
                fill = _color(c.fill.fgColor) if c.fill is not None and c.fill.fill_type == "solid" else None
                if fill:
                    fills[c.coordinate] = fill
                font = _color(c.font.color) if c.font is not None else None
                if font:
                    fonts[c.coordinate] = font
        if time_row is not None:
            cells[f"B{time_row}"] = "<processed_at>"
        ps, props = ws.page_setup, ws.sheet_properties
        sheets.append({
            "name": ws.title,
            "state": ws.sheet_state,
            "cells": cells,
            "comments": comments,
            "fills": fills,
            "font_colors": fonts,
            "not_text": not_text,
            "merged": sorted(str(r) for r in ws.merged_cells.ranges),
            "freeze_panes": ws.freeze_panes,
            "autofilter": ws.auto_filter.ref,
            "unused_rows_hidden": bool(ws.sheet_format.zeroHeight),
            "column_widths": {k: round(d.width, 1) for k, d in sorted(ws.column_dimensions.items()) if d.width},
            "print": {
                "orientation": ps.orientation,
                "paper_size": None if ps.paperSize is None else int(ps.paperSize),
                "fit_to_page": bool(props.pageSetUpPr is not None and props.pageSetUpPr.fitToPage),
                "fit_to_width": None if ps.fitToWidth is None else int(ps.fitToWidth),
                "fit_to_height": None if ps.fitToHeight is None else int(ps.fitToHeight),
                "title_rows": ws.print_title_rows,
                "footer": ws.oddFooter.center.text,
            },
        })
    return {"sheets": sheets, "active": wb.active.title}


def record(corpus: Path | None) -> dict:
    recorded = {}
    for name, source in cases(corpus).items():
        with tempfile.TemporaryDirectory() as work:
            recorded[name] = report_content(report_of(name, source, Path(work)))
    return recorded


if __name__ == "__main__":
    corpus_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent.parent / "shared" / "corpus" / "spreadsheets"
    data = record(corpus_dir if corpus_dir.is_dir() else None)
    RECORDING.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"recorded {len(data)} reports in {RECORDING}")
