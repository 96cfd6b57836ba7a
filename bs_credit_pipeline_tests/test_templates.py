"""templates.write_template: the blank Excel template per record kind (read back with openpyxl)."""

from __future__ import annotations

import dataclasses
import importlib.util
from dataclasses import dataclass, field
from typing import Any

import openpyxl
import pytest

from bs_credit_pipeline.templates import (
    CODES_SHEET,
    INSTRUCTIONS_SHEET,
    MARKER_SHEET,
    template_marker,
    write_template,
)


@dataclass(frozen=True)
class Col:
    name: str
    header: str
    type: str = "text"
    required: bool = False
    required_if: dict | None = None
    values: tuple[str, ...] = ()
    multi: bool = False
    max_length: int | None = None
    description: str = ""
    aliases: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    pii: bool = False


LONG_VALUES = tuple(f"第{i}类较长的违法行为类型名称" for i in range(1, 21))  # > 255 chars joined


@dataclass(frozen=True)
class FakeContract:
    kind: str
    title: str
    version: int
    standard: str
    legal_basis: tuple[str, ...]
    columns: tuple[Col, ...]
    natural_key: tuple[str, ...] = ()
    subject: Any = None
    domains: dict = field(default_factory=dict)

    def for_domain(self, domain: str) -> FakeContract:
        overrides = self.domains.get(domain, {})
        return dataclasses.replace(
            self, columns=tuple(dataclasses.replace(c, **overrides.get(c.name, {})) for c in self.columns))


CONTRACT = FakeContract(
    kind="admin_penalty",
    title="行政处罚",
    version=3,
    standard="全国信用信息共享平台 双公示数据标准 v2.0",
    legal_basis=("《中华人民共和国行政处罚法》第四十八条", "国办发〔2015〕51号"),
    natural_key=("decision_no",),
    columns=(
        Col("subject_name", "行政相对人名称", required=True, max_length=200, description="全称"),
        Col("subject_category", "行政相对人类别", "enum", required=True, values=("法人及非法人组织", "自然人", "个体工商户")),
        Col("uscc", "统一社会信用代码", "uscc", description="18位统一社会信用代码"),
        Col("id_number", "证件号码", "id_number", pii=True,
            required_if={"column": "subject_category", "in": ["自然人"]}, description="单元格格式设为文本"),
        Col("decision_no", "行政处罚决定书文号", "text", required=True),
        Col("violation_type", "违法行为类型", "text", required=True, max_length=2000),
        Col("penalty_types", "处罚类别", "enum", required=True, multi=True, values=("警告", "罚款", "其他")),
        Col("legacy_kind", "旧分类", "enum", values=LONG_VALUES),
        Col("fine_amount", "罚款金额（万元）", "decimal"),
        Col("decision_date", "处罚决定日期", "date", required=True, description="格式 2026-10-03"),
        Col("reg_no", "工商注册号", "code"),
    ),
    domains={"食品药品": {"violation_type": {"type": "enum", "multi": True, "values": ("无证生产经营", "虚假标注")}}},
)
CODE_LETTERS = {"C": "统一社会信用代码", "D": "证件号码", "K": "工商注册号"}


@pytest.fixture()
def workbook(tmp_path):
    path = write_template(CONTRACT, tmp_path / "t" / "行政处罚模板.xlsx", departments=["保山市市场监督管理局"])
    return openpyxl.load_workbook(path)


def _validations(ws) -> dict[str, Any]:
    """First column letter of each validation's range -> the validation."""
    return {str(dv.sqref).split(":")[0].rstrip("0123456789"): dv for dv in ws.data_validations.dataValidation}


def test_sheets_and_marker(workbook):
    assert workbook.sheetnames == ["行政处罚", INSTRUCTIONS_SHEET, CODES_SHEET, MARKER_SHEET]
    assert workbook.active.title == "行政处罚"
    marker = workbook[MARKER_SHEET]
    assert marker.sheet_state == "veryHidden"
    assert marker["A1"].value == "bs-credit-template:admin_penalty:v3" == template_marker("admin_penalty", 3)
    assert workbook[CODES_SHEET].sheet_state == "hidden"
    assert workbook[INSTRUCTIONS_SHEET].sheet_state == "visible"


def test_headers_required_marks_and_comments(workbook):
    ws = workbook["行政处罚"]
    headers = [c.value for c in ws[1]]
    assert headers == [("*" if c.required else "") + c.header for c in CONTRACT.columns]
    required, optional, conditional = ws["A1"], ws["C1"], ws["D1"]
    assert required.fill.fgColor.rgb != optional.fill.fgColor.rgb != conditional.fill.fgColor.rgb
    assert required.fill.fgColor.rgb != conditional.fill.fgColor.rgb
    assert "全称" in ws["A1"].comment.text
    assert "当「行政相对人类别」为 自然人 时必填" in ws["D1"].comment.text
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["A"].width > 10


def test_enum_dropdowns(workbook):
    ws = workbook["行政处罚"]
    dvs = _validations(ws)
    category = dvs["B"]
    assert category.type == "list" and category.formula1 == '"法人及非法人组织,自然人,个体工商户"'
    assert category.errorStyle in (None, "stop")
    assert str(category.sqref) == "B2:B1048576"
    multi = dvs["G"]
    assert multi.formula1 == '"警告,罚款,其他"' and multi.errorStyle == "information"
    # A list over Excel's 255-character inline limit lives on the hidden 代码表 sheet.
    long_list = dvs["H"]
    assert long_list.formula1 == f"'{CODES_SHEET}'!$A$2:$A${len(LONG_VALUES) + 1}"
    codes = workbook[CODES_SHEET]
    assert codes["A1"].value == "旧分类"
    assert [codes.cell(r, 1).value for r in range(2, len(LONG_VALUES) + 2)] == list(LONG_VALUES)
    assert dvs["I"].type == "decimal" and dvs["I"].operator == "greaterThanOrEqual"
    assert "A" not in dvs  # free text: no validation


def test_code_columns_are_text(workbook):
    ws = workbook["行政处罚"]
    # Column-wide '@' covers every row (far more than the 5 000 required), so typed IDs stay text.
    for letter in CODE_LETTERS:
        assert ws.column_dimensions[letter].number_format == "@", letter
    assert ws.column_dimensions["J"].number_format == "yyyy-mm-dd"
    assert ws.column_dimensions["I"].number_format == "General"
    # Code and date columns show a format prompt when selected.
    dvs = _validations(ws)
    assert "18位统一社会信用代码" in dvs["C"].prompt and "2026-10-03" in dvs["J"].prompt


def test_instructions(workbook):
    ws = workbook[INSTRUCTIONS_SHEET]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    texts = [v for row in rows for v in row if v]
    start = next(i for i, row in enumerate(rows) if row[:5] == ["列名", "是否必填", "类型/格式", "可选值", "说明"])
    table = {row[0]: row[1:5] for row in rows[start + 1 : start + 1 + len(CONTRACT.columns)]}
    assert len(table) == len(CONTRACT.columns)
    assert table["*行政相对人名称"] == ["必填", "文本，不超过 200 个字", None, "全称"]
    assert table["*行政相对人类别"][2] == "法人及非法人组织、自然人、个体工商户"
    assert table["证件号码"][0] == "条件必填（当「行政相对人类别」为 自然人 时必填）"
    assert table["统一社会信用代码"][0] == "选填" and "文本格式" in table["统一社会信用代码"][1]
    assert "可多选" in table["*处罚类别"][1]
    assert table["*处罚决定日期"][1] == "日期，格式 2026-10-03"
    joined = " ".join(texts)
    for phrase in ("《中华人民共和国行政处罚法》第四十八条", "全国信用信息共享平台 双公示数据标准 v2.0",
                   "保山市市场监督管理局", "文本格式", "不要合并单元格", "合计行", "一个文件只填一类数据", "手机号", "家庭住址"):
        assert phrase in joined, phrase


def test_domain_specialisation(tmp_path):
    wb = openpyxl.load_workbook(write_template(CONTRACT, tmp_path / "food.xlsx", domain="食品药品"))
    dvs = _validations(wb["行政处罚"])
    assert dvs["F"].formula1 == '"无证生产经营,虚假标注"'
    assert any(c.value == "食品药品" for row in wb[INSTRUCTIONS_SHEET].iter_rows() for c in row)


def test_no_codes_sheet_when_lists_are_short(tmp_path):
    short = dataclasses.replace(CONTRACT, columns=CONTRACT.columns[:3])
    wb = openpyxl.load_workbook(write_template(short, tmp_path / "short.xlsx"))
    assert wb.sheetnames == ["行政处罚", INSTRUCTIONS_SHEET, MARKER_SHEET]


@pytest.mark.skipif(
    importlib.util.find_spec("bs_credit_pipeline.contracts") is None, reason="contracts.py not yet written"
)
def test_real_contract_round_trip(tmp_path):
    from bs_credit_pipeline.contracts import Registry
    from bs_credit_pipeline.intake.header import detect_kind, match_sheet
    from bs_credit_pipeline.intake.read import read_workbook

    contract = Registry.load().contracts["admin_penalty"]
    path = write_template(contract, tmp_path / "admin_penalty.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb[contract.title]
    assert [c.value.lstrip("*") for c in ws[1]] == [c.header for c in contract.columns]
    domain_letter = openpyxl.utils.get_column_letter(1 + [c.name for c in contract.columns].index("domain"))
    assert "食品药品" in _validations(ws)[domain_letter].formula1
    # The pipeline's own reader finds the marker and maps every (*-marked) header back to its column.
    read = read_workbook(path)
    assert read.marker == template_marker(contract.kind, contract.version)
    assert detect_kind(read, path.name, Registry.load().contracts).how == "marker"
    match = match_sheet(next(s for s in read.sheets if s.name == contract.title), contract)
    assert sorted(match.columns.values()) == sorted(c.name for c in contract.columns)


def test_very_hidden_patch_touches_only_the_named_hidden_sheet(tmp_path):
    from bs_credit_pipeline.xlsx import Workbook, make_very_hidden

    path = tmp_path / "book.xlsx"
    wb = Workbook()
    wb.add_worksheet("数据").write(0, 0, "x")
    for name in ("旧表", "_标记"):
        ws = wb.add_worksheet(name)
        ws.write(0, 0, name)
        ws.hide()
    wb.close(str(path))
    make_very_hidden(path, "_标记")
    book = openpyxl.load_workbook(path)
    assert [(ws.title, ws.sheet_state) for ws in book.worksheets] == [
        ("数据", "visible"), ("旧表", "hidden"), ("_标记", "veryHidden")]
    assert book["_标记"]["A1"].value == "_标记"
    with pytest.raises(ValueError):
        make_very_hidden(path, "数据")  # visible: not a sheet this patch may change
