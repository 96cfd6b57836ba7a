"""intake/read.py: every file gives string tables with exact Excel row numbers, or a typed FileRejected."""

import csv
import io
import json
import subprocess
import sys
import time
import zipfile
from datetime import date, datetime
from pathlib import Path

import numpy as np
import openpyxl
import pyarrow as pa
import pytest
import xlwt
from hypothesis import given, settings
from hypothesis import strategies as st

from bs_credit_pipeline.intake import read as readers
from bs_credit_pipeline.intake.read import FileRejected, Workbook, read_workbook, sniff_format

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "spreadsheets"

# Synthetic identifiers with valid check characters.
USCC_SHOP = "925305023123456733"
USCC_CO = "91530500709876544M"
CITIZEN_ID = "530502198503120021"
CITIZEN_ID_X = "53052119920718004X"


def cells(sheet) -> list[tuple[int, list]]:
    """(Excel row, row values) for every table row."""
    columns = [c.to_pylist() for c in sheet.table.columns]
    return [(int(n), [col[i] for col in columns]) for i, n in enumerate(sheet.row_numbers)]


def row(sheet, excel_row: int) -> list:
    return dict(cells(sheet))[excel_row]


def assert_string_table(sheet) -> None:
    assert all(t == pa.string() for t in sheet.table.schema.types)
    assert sheet.table.column_names == [f"c{i}" for i in range(sheet.table.num_columns)]
    assert sheet.row_numbers.dtype == np.int64
    assert len(sheet.row_numbers) == sheet.table.num_rows


# ---------------------------------------------------------------- Excel


@pytest.fixture
def penalty_xlsx(tmp_path) -> Path:
    """A department's workbook as seen in the wild: title, two header rows, blanks, footers, extra sheets."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "行政处罚"
    ws["A1"] = "保山市市场监督管理局2026年10月行政处罚信息"
    ws.merge_cells("A1:F1")
    ws.append(["行政相对人名称", "主体身份代码", None, "处罚决定日期", "罚款金额（万元）", "备注"])
    ws.merge_cells("B2:C2")
    ws.append([None, "统一社会信用代码", "证件号码", None, None, None])
    ws.append(["保山市隆阳区某某商行", USCC_SHOP, None, date(2026, 10, 3), 1.5, None])
    ws.append([])  # blank row 5
    ws.append(["张三", None, CITIZEN_ID_X, datetime(2026, 10, 5, 14, 30), 2, "个体"])
    ws["C7"] = float("1.10101199001011E+17")  # an ID typed into a General cell
    ws["A7"] = "李四"
    ws["C8"] = "0012"
    ws["A9"] = "合计"
    ws["E9"] = 3.5
    ws["A10"] = "填报人：王五"
    ws["D10"] = "审核人：赵六"
    other = wb.create_sheet("说明")
    other["A1"] = "填报说明"
    hidden = wb.create_sheet("代码表")
    hidden["A1"] = "隐藏数据"
    hidden.sheet_state = "hidden"
    marker = wb.create_sheet(readers.MARKER_SHEET)
    marker["A1"] = "bs-credit-template:admin_penalty:v1"
    marker.sheet_state = "veryHidden"
    path = tmp_path / "行政处罚.xlsx"
    wb.save(path)
    return path


def test_xlsx_realistic_layout(penalty_xlsx):
    wb = read_workbook(penalty_xlsx)
    assert isinstance(wb, Workbook) and wb.format == "xlsx" and wb.encoding is None
    assert [s.name for s in wb.sheets] == ["行政处罚", "说明"]
    assert [s.index for s in wb.sheets] == [0, 1]
    assert wb.hidden_sheets == ["代码表"]
    assert wb.marker == "bs-credit-template:admin_penalty:v1"
    sheet = wb.sheets[0]
    assert_string_table(sheet)
    assert sheet.col_offset == 0
    assert list(sheet.row_numbers) == list(range(1, 11))
    assert row(sheet, 1)[0] == "保山市市场监督管理局2026年10月行政处罚信息"
    assert row(sheet, 1)[1:] == [None] * 5  # merged cells keep the value in the top-left cell only
    assert row(sheet, 3)[1:3] == ["统一社会信用代码", "证件号码"]
    assert row(sheet, 4) == ["保山市隆阳区某某商行", USCC_SHOP, None, "2026-10-03", "1.5", None]
    assert row(sheet, 5) == [None] * 6
    assert row(sheet, 6) == ["张三", None, CITIZEN_ID_X, "2026-10-05 14:30:00", "2", "个体"]
    assert row(sheet, 7)[2] == "110101199001011008"  # Excel damage kept visible for identifiers.py
    assert row(sheet, 8)[2] == "0012"
    assert row(sheet, 9)[0] == "合计" and row(sheet, 10)[3] == "审核人：赵六"


def _write_b3_xlsx(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["B3"], ws["C3"] = "行政相对人名称", "证件号码"
    ws["B4"], ws["C4"] = "张三", CITIZEN_ID
    ws["B6"], ws["D6"] = "李四", "备注在D列"
    wb.save(path)


def _write_b3_xls(path: Path) -> None:
    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("数据")
    ws.write(2, 1, "行政相对人名称")
    ws.write(2, 2, "证件号码")
    ws.write(3, 1, "张三")
    ws.write(3, 2, CITIZEN_ID)
    ws.write(5, 1, "李四")
    ws.write(5, 3, "备注在D列")
    hidden = book.add_sheet("隐藏")
    hidden.write(0, 0, "x")
    hidden.visibility = 1
    book.save(str(path))


def _write_b3_ods(path: Path) -> None:
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )

    def cell(v):
        return f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'

    empty, skip = "<table:table-cell/>", '<table:table-cell table:number-columns-repeated="4"/>'
    rows = [
        f'<table:table-row table:number-rows-repeated="2">{skip}</table:table-row>',
        f"<table:table-row>{empty}{cell('行政相对人名称')}{cell('证件号码')}</table:table-row>",
        f"<table:table-row>{empty}{cell('张三')}{cell(CITIZEN_ID)}</table:table-row>",
        f"<table:table-row>{skip}</table:table-row>",
        f"<table:table-row>{empty}{cell('李四')}{empty}{cell('备注在D列')}</table:table-row>",
    ]
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="数据">{"".join(rows)}'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content)
        z.writestr("META-INF/manifest.xml", manifest)


@pytest.mark.parametrize(
    "suffix, writer, fmt",
    [("xlsx", _write_b3_xlsx, "xlsx"), ("xls", _write_b3_xls, "xls"), ("ods", _write_b3_ods, "ods")],
)
def test_sheet_starting_at_b3_keeps_excel_positions(tmp_path, suffix, writer, fmt):
    path = tmp_path / f"b3.{suffix}"
    writer(path)
    wb = read_workbook(path)
    assert wb.format == fmt
    sheet = wb.sheets[0]
    assert_string_table(sheet)
    assert sheet.col_offset == 1  # c0 is column B
    rows = {n: values for n, values in cells(sheet) if any(values)}
    assert rows == {
        3: ["行政相对人名称", "证件号码", None],
        4: ["张三", CITIZEN_ID, None],
        6: ["李四", None, "备注在D列"],
    }
    assert list(sheet.row_numbers) == list(range(1, 7))  # rows 1-2 and 5 are blank rows of the table
    if fmt == "xls":
        assert wb.hidden_sheets == ["隐藏"]


def test_xls_written_by_xlwt_formats_numbers_and_dates(tmp_path):
    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("Sheet1")
    ws.write(0, 0, "金额")
    ws.write(1, 0, 1.5)
    ws.write(2, 0, 2)
    ws.write(3, 0, datetime(2026, 10, 3), xlwt.easyxf(num_format_str="YYYY-MM-DD"))
    path = tmp_path / "old.xls"
    book.save(str(path))
    sheet = read_workbook(path).sheets[0]
    assert sheet.table.column("c0").to_pylist() == ["金额", "1.5", "2", "2026-10-03"]


def test_headers_only_sheet(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["行政相对人名称", "统一社会信用代码"])
    path = tmp_path / "blank_template.xlsx"
    wb.save(path)
    sheet = read_workbook(path).sheets[0]
    assert cells(sheet) == [(1, ["行政相对人名称", "统一社会信用代码"])]


def test_workbook_with_only_hidden_data_is_empty(tmp_path):
    wb = openpyxl.Workbook()
    hidden = wb.create_sheet("数据")
    hidden["A1"] = "x"
    hidden.sheet_state = "hidden"
    path = tmp_path / "hidden_only.xlsx"
    wb.save(path)
    with pytest.raises(FileRejected) as e:
        read_workbook(path)
    assert e.value.code == readers.F_EMPTY


def test_allocation_bomb_is_refused_without_killing_the_caller(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "a"
    wb.active["XFD1048576"] = "z"  # calamine would allocate a 17-billion-cell range
    path = tmp_path / "bomb.xlsx"
    wb.save(path)
    with pytest.raises(FileRejected) as e:
        read_workbook(path)
    assert e.value.code == readers.F_TOO_LARGE


def test_truncated_xlsx_is_unreadable(tmp_path, penalty_xlsx):
    data = penalty_xlsx.read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FileRejected) as e:
        read_workbook(path)
    assert e.value.code == readers.F_UNREADABLE
    assert str(path) not in e.value.detail


def test_excel_reader_process_runs_without_pandas(tmp_path, penalty_xlsx):
    """The isolated reader never loads pandas (pyarrow would on its first conversion: 0.3 s CPU per file)."""
    code = ("import json, runpy, sys\n"
            f"sys.argv = ['read', {str(penalty_xlsx)!r}, 'xlsx', {str(tmp_path)!r}]\n"
            "runpy.run_module('bs_credit_pipeline.intake.read', run_name='__main__')\n"
            "print(json.dumps('pandas' in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) is False
    outcome = json.loads((tmp_path / "result.json").read_text(encoding="utf-8"))
    assert outcome[0] == "ok" and [s[0] for s in outcome[1]] == ["行政处罚", "说明"]
    assert outcome[1][0][5] == [[2, [6]]]  # the ID typed into a General cell (C7) is still found


def _long_numbers_both_ways(path: Path) -> tuple[list, list]:
    """The numeric long-number cells of each sheet, from the sheet's XML and from a boolean-typed parse."""
    import fastexcel

    reader, parts = fastexcel.read_excel(path), readers._xlsx_sheet_kinds(str(path))
    from_xml, parsed = [], []
    for index, name in enumerate(reader.sheet_names):
        part = parts[name][2]
        sheet = reader.load_sheet(index, header_row=None, dtypes="string", skip_rows=0)
        batch, absolute = sheet.to_arrow(), [c.absolute_index for c in sheet.selected_columns]
        assert readers._long_number_cells(str(path), part) is not None
        from_xml.append(readers._numeric_long_numbers(batch, absolute, readers._numeric_flags(str(path), index, part)))
        parsed.append(readers._numeric_long_numbers(batch, absolute, readers._numeric_flags(str(path), index)))
    return from_xml, parsed


def test_long_numbers_found_in_the_xml_are_those_a_parse_finds(tmp_path, penalty_xlsx):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["B2"] = "证件号码"
    ws["B3"] = 110101199001011008  # an int: written as plain digits
    ws["B4"] = float("1.10101199001011E+17")  # a float: written in exponent form
    ws["C5"] = 1234567890123456.5  # not an integer
    ws["D6"] = "110101199001011008"  # text
    ws["E9"] = 12345678901234567890
    ws["F10"] = 123456789012345  # 15 digits: nothing lost
    path = tmp_path / "numbers.xlsx"
    wb.save(path)
    office = Path(__file__).parent / "fixtures" / "office" / "处罚_办公软件.xlsx"  # LibreOffice: 5.30502198001048E+017
    for source in (path, penalty_xlsx, office):
        from_xml, parsed = _long_numbers_both_ways(source)
        assert from_xml == parsed
        assert any(from_xml)
    assert _long_numbers_both_ways(path)[0] == [[[0, [2, 3]], [1, [4]], [3, [8]]]]


def test_a_sheet_xml_without_cell_references_is_parsed_instead(tmp_path):
    path = tmp_path / "norefs.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = 110101199001011008
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members["xl/worksheets/sheet1.xml"] = members["xl/worksheets/sheet1.xml"].replace(b' r="A1"', b"")
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    assert readers._long_number_cells(str(path), "xl/worksheets/sheet1.xml") is None
    assert {j: rows.tolist() for j, rows in read_workbook(path).sheets[0].numeric_cells.items()} == {0: [0]}


# ---------------------------------------------------------------- sniffing and file-level outcomes


def test_sniff_format(tmp_path, penalty_xlsx):
    xls = tmp_path / "a.xls"
    _write_b3_xls(xls)
    csv_path = tmp_path / "a.xls.csv"
    csv_path.write_text("a,b\n", encoding="utf-8")
    assert sniff_format(penalty_xlsx) == "xlsx"
    assert sniff_format(xls) == "xls"
    assert sniff_format(FIXTURES / "html_saved_as.xls") == "html"
    assert sniff_format(FIXTURES / "gb18030.csv") == "csv"
    assert sniff_format(csv_path) == "csv"


@pytest.mark.parametrize(
    "content, code",
    [
        (b"", "F_EMPTY"),
        (b"  \r\n\t\r\n", "F_EMPTY"),
        (b"%PDF-1.7\n\x00\x01binary", "F_UNSUPPORTED_FORMAT"),
        (b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"/>', "F_UNSUPPORTED_FORMAT"),
        (b"MIME-Version: 1.0\r\nContent-Type: multipart/related\r\n", "F_UNSUPPORTED_FORMAT"),
        (b"<html><body><p>no table here</p></body></html>", "F_EMPTY"),
    ],
)
def test_file_level_rejections(tmp_path, content, code):
    path = tmp_path / "submitted.xls"
    path.write_bytes(content)
    with pytest.raises(FileRejected) as e:
        read_workbook(path)
    assert e.value.code == code and e.value.detail


def test_zip_that_is_not_a_spreadsheet(tmp_path):
    path = tmp_path / "report.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(FileRejected) as e:
        read_workbook(path)
    assert e.value.code == readers.F_UNSUPPORTED_FORMAT


def test_too_large(tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    monkeypatch.setattr(readers, "MAX_FILE_BYTES", 4)
    with pytest.raises(FileRejected) as e:
        read_workbook(path)
    assert e.value.code == readers.F_TOO_LARGE


# ---------------------------------------------------------------- CSV


def test_gb18030_csv_with_title_embedded_newline_blank_line_and_ragged_rows():
    wb = read_workbook(FIXTURES / "gb18030.csv")
    assert wb.format == "csv" and wb.encoding == "gb18030"
    sheet = wb.sheets[0]
    assert_string_table(sheet)
    assert sheet.name == "gb18030" and sheet.col_offset == 0
    assert cells(sheet) == [
        (1, ["保山市发展和改革委员会2026年10月行政许可信息", None, None, None]),
        (2, ["行政相对人名称", "统一社会信用代码", "许可决定日期", "许可内容"]),
        (3, ["保山市某某科技有限公司", USCC_CO, "2026/10/3", "食品经营许可，\r\n有效期五年"]),
        (5, [None, None, None, None]),  # a blank line
        (6, ["施甸县某某农民专业合作社", None, "20261003", "0012"]),
        (7, ["合计", "2", None, None]),
    ]


def test_utf8_bom_csv_keeps_leading_zeros_and_line_numbers_with_quoted_newlines(tmp_path):
    path = tmp_path / "bom.csv"
    text = f'名称,代码,备注\n"某某商行",{USCC_SHOP},"两行\n备注"\n张三,0012,\n"引号""内""",{CITIZEN_ID_X},x\n'
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    wb = read_workbook(path)
    assert wb.encoding == "utf-8-sig"
    assert cells(wb.sheets[0]) == [
        (1, ["名称", "代码", "备注"]),
        (2, ["某某商行", USCC_SHOP, "两行\n备注"]),
        (4, ["张三", "0012", None]),
        (5, ['引号"内"', CITIZEN_ID_X, "x"]),
    ]


@pytest.mark.parametrize("delimiter", ["\t", ";", "|", ","])
def test_csv_delimiter_sniffing(tmp_path, delimiter):
    path = tmp_path / "d.csv"
    lines = [["名称", "代码", "日期"], ["某某商行", USCC_SHOP, "2026-10-03"], ["张三", CITIZEN_ID, "2026,10,3"]]
    path.write_text("\n".join(delimiter.join(r) for r in lines) + "\n", encoding="utf-8")
    if delimiter == ",":
        path.write_text('名称,代码,日期\n某某商行,{},2026-10-03\n张三,{},"2026,10,3"\n'.format(USCC_SHOP, CITIZEN_ID))
    sheet = read_workbook(path).sheets[0]
    assert cells(sheet) == [(i + 1, r) for i, r in enumerate(lines)]


_field = st.one_of(st.just(""), st.text(alphabet='a,"\n\r 保0', max_size=6))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.lists(_field, min_size=3, max_size=3), min_size=1, max_size=8),
    st.sampled_from(["\n", "\r\n"]),
)
def test_csv_fast_path_agrees_with_stdlib(records, terminator):
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator=terminator).writerows(records)
    text = buf.getvalue()
    fast = readers._csv_arrow(text.encode("utf-8"), ",")
    slow_table, slow_rows = readers._csv_stdlib(text, ",")
    if fast is not None:
        assert fast[0].equals(slow_table)
        assert list(fast[1]) == list(slow_rows)


# ---------------------------------------------------------------- HTML saved as .xls


def test_html_saved_as_xls():
    wb = read_workbook(FIXTURES / "html_saved_as.xls")
    assert wb.format == "html" and wb.encoding == "gb18030"
    sheet = wb.sheets[0]
    assert_string_table(sheet)
    assert cells(sheet) == [
        (1, ["保山市市场监督管理局2026年10月 行政处罚信息", None, None, None, None]),
        (2, ["行政相对人名称", "统一社会信用代码 / 证件号码", None, "处罚决定日期", "备注"]),
        (3, [None, "统一社会信用代码", "证件号码", None, None]),
        (4, ["保山市隆阳区某某商行", USCC_SHOP, None, "2026/10/3", "第一行\n第二行"]),
        (5, [None, None, None, None, None]),
        (6, ["张三", None, CITIZEN_ID_X, "2026年10月5日", None]),
        (7, ["填报人：李四", None, None, None, None]),
    ]


def test_html_utf8_without_charset(tmp_path):
    path = tmp_path / "t.xls"
    path.write_text("<table><tr><th>名称<td>代码</tr><tr><td>张三<td>0012</table>", encoding="utf-8")
    wb = read_workbook(path)
    assert wb.encoding == "utf-8"
    assert cells(wb.sheets[0]) == [(1, ["名称", "代码"]), (2, ["张三", "0012"])]


# ---------------------------------------------------------------- public corpus

EXPECTED_REJECTIONS = {
    "pass_protected.xlsx": "F_ENCRYPTED",
    "pass_protected.xlsb": "F_ENCRYPTED",
    "OOM_alloc3.xls": "F_UNREADABLE",  # corrupt compound file
    "issue_594_dos.ods": "F_UNSUPPORTED_FORMAT",  # 1.3 KB over calamine's cell limit: not "too large"; send .xlsx
    "empty_sheet.xlsx": "F_EMPTY",
    "issue_666_panic.xlsb": "F_EMPTY",
}


def _hidden_and_chart_sheets(wb):
    assert [s.name for s in wb.sheets] == ["Visible"]  # the chart sheet is not a worksheet
    assert wb.hidden_sheets == ["Hidden", "VeryHidden"]


def _dates_1904(wb):
    assert cells(wb.sheets[0])[:2] == [(1, ["2021-01-01", "15"]), (2, ["2021-01-02", "16"])]


def _error_cells_are_null(wb):
    column = wb.sheets[0].table.column("c0")
    assert column.null_count == column.length() == 7


EXPECTED_WORKBOOKS = {
    "any_sheets.xlsx": _hidden_and_chart_sheets,
    "any_sheets.xls": _hidden_and_chart_sheets,
    "date_1904.xlsx": _dates_1904,
    "date_1904.xls": _dates_1904,
    "errors.xlsx": _error_cells_are_null,
}
CORPUS_FILES = sorted(p.name for p in CORPUS.iterdir()) if CORPUS.is_dir() else ["<corpus missing>"]


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_file_gives_a_typed_outcome_quickly(corpus_dir, name):
    start = time.monotonic()
    try:
        outcome = read_workbook(corpus_dir / name)
    except FileRejected as e:
        outcome = e
    assert time.monotonic() - start < 10
    if name in EXPECTED_REJECTIONS:
        assert isinstance(outcome, FileRejected) and outcome.code == EXPECTED_REJECTIONS[name]
        return
    assert isinstance(outcome, Workbook), outcome
    for sheet in outcome.sheets:
        assert_string_table(sheet)
    EXPECTED_WORKBOOKS.get(name, lambda wb: None)(outcome)


def test_a_field_is_limited_in_characters_not_bytes(tmp_path):
    """MAX_FIELD_CHARS Chinese characters (three times as many UTF-8 bytes) pass; one more is F_LIMITS."""
    fits, too_long = tmp_path / "fits.csv", tmp_path / "too_long.csv"
    fits.write_text("a,b\n1," + "长" * readers.MAX_FIELD_CHARS + "\n", encoding="utf-8")
    too_long.write_text("a,b\n1," + "长" * (readers.MAX_FIELD_CHARS + 1) + "\n", encoding="utf-8")
    assert read_workbook(fits).sheets[0].table.num_rows == 2
    with pytest.raises(FileRejected) as refused:
        read_workbook(too_long)
    assert refused.value.code == "F_LIMITS"
