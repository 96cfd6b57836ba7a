"""Blank Excel template per record kind (Chinese), written with rust_xlsxwriter (see ``xlsx``).

Sheets: the data sheet (named by the contract title), ``填报说明`` (instructions), a hidden ``代码表`` when a
dropdown list is too long for Excel's inline limit, and the very hidden ``_bscredit`` sheet whose A1 holds the
kind marker ``bs-credit-template:<kind>:v<version>`` that the reader uses to detect the kind.

Required columns are marked with a leading ``*`` in the header: the header matcher must ignore it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rvgsrust_xlsxwriter import DataValidation

from .intake.report import AUTHOR, EXCEL_MAX_ROWS, display_width, excel_column, unique_sheet_name
from .xlsx import Workbook, make_very_hidden, new_format, note, print_setup

MARKER_SHEET = "_bscredit"
INSTRUCTIONS_SHEET = "填报说明"
CODES_SHEET = "代码表"
REQUIRED_MARK = "*"
INLINE_LIST_MAX = 255  # Excel's limit on an inline data-validation list ("a,b,c")

CODE_TYPES = frozenset({"uscc", "org_code", "citizen_id", "subject_code", "id_number", "code"})
TEXT_TYPES = CODE_TYPES | {"text", "enum"}

TYPE_WORDS = {
    "text": "文本",
    "enum": "从下拉列表选择",
    "date": "日期，格式 2026-10-03",
    "decimal": "数字，不小于 0",
    "integer": "整数，不小于 0",
    "uscc": "18位统一社会信用代码（文本格式）",
    "org_code": "9位组织机构代码（文本格式）",
    "citizen_id": "18位公民身份号码（文本格式）",
    "subject_code": "统一社会信用代码、组织机构代码或公民身份号码（文本格式）",
    "id_number": "证件号码；证件类型为身份证时填18位公民身份号码（文本格式）",
    "code": "代码或编号（文本格式，字母大写，不含空格）",
}


def template_marker(kind: str, version: int | str) -> str:
    """The kind marker written to A1 of the hidden ``_bscredit`` sheet."""
    return f"bs-credit-template:{kind}:v{version}"


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key, default)
    return getattr(obj, key, default)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _condition(column: Any, headers: Mapping[str, str]) -> str:
    """Chinese wording of a ``required_if`` condition, or '' when there is none."""
    rule = column.required_if
    if not rule:
        return ""
    other = _get(rule, "column")
    values = "、".join(str(v) for v in _get(rule, "in") or ())
    return f"当「{headers.get(other, other)}」为 {values} 时必填"


def _requirement(column: Any, headers: Mapping[str, str]) -> str:
    if column.required:
        return "必填"
    condition = _condition(column, headers)
    return f"条件必填（{condition}）" if condition else "选填"


def _type_words(column: Any) -> str:
    words = TYPE_WORDS.get(column.type, column.type)
    if column.type == "enum" and column.multi:
        words += "，可多选，用“、”分隔"
    if column.type == "text" and column.max_length:
        words += f"，不超过 {column.max_length} 个字"
    return words


def _header_comment(column: Any, headers: Mapping[str, str]) -> str:
    lines = [f"{column.header}（{_requirement(column, headers)}）", f"格式：{_type_words(column)}"]
    if column.values:
        lines.append("可选值：" + _clip("、".join(column.values), 300))
    if column.description:
        lines.append(column.description)
    return "\n".join(lines)


def _department_names(departments: Sequence[Any] | None) -> list[str]:
    return [d if isinstance(d, str) else str(_get(d, "name")) for d in departments or ()]


class _Formats:
    def __init__(self, wb: Workbook):
        def add(spec: dict) -> Any:
            return new_format(wb, spec)

        base = {"bold": True, "border": 1, "text_wrap": True, "valign": "vcenter", "align": "center"}
        self.required = add({**base, "bg_color": "#F8CBAD", "font_color": "#C00000"})
        self.conditional = add({**base, "bg_color": "#FFF2CC"})
        self.optional = add({**base, "bg_color": "#DDEBF7"})
        self.text = add({"num_format": "@"})
        self.date = add({"num_format": "yyyy-mm-dd"})
        self.integer = add({"num_format": "0"})
        self.title = add({"bold": True, "font_size": 16})
        self.label = add({"bold": True, "valign": "top"})
        self.wrap = add({"text_wrap": True, "valign": "top"})
        self.table_header = add({"bold": True, "border": 1, "bg_color": "#D9E1F2", "text_wrap": True, "valign": "top"})
        self.table_cell = add({"border": 1, "text_wrap": True, "valign": "top"})
        self.section = add({"bold": True, "font_size": 12, "bottom": 2})


def _column_format(fmt: _Formats, column_type: str) -> Any:
    if column_type in TEXT_TYPES:
        return fmt.text
    if column_type == "date":
        return fmt.date
    if column_type == "integer":
        return fmt.integer
    return None


def _list_fits_inline(values: Sequence[str]) -> bool:
    return len(",".join(values)) <= INLINE_LIST_MAX and not any("," in v or '"' in v for v in values)


def _validation(prompt: tuple[str, str]) -> DataValidation:
    dv = DataValidation()
    dv.set_input_title(prompt[0])
    dv.set_input_message(prompt[1])
    return dv


def _write_data_sheet(wb: Workbook, ws: Any, fmt: _Formats, contract: Any) -> None:
    columns = list(contract.columns)
    headers = {c.name: c.header for c in columns}
    codes_ws = None
    codes_col = 0
    last_row = EXCEL_MAX_ROWS - 1
    ws.set_row_height(0, 36)
    ws.freeze_panes(1, 0)
    ws.set_default_note_author(AUTHOR)
    print_setup(ws)
    for col, column in enumerate(columns):
        width = min(max(display_width(column.header) + 4, 12), 40)
        if column.type == "text" and (column.max_length or 0) >= 1000:
            width = 40
        ws.set_column_width(col, width)
        column_format = _column_format(fmt, column.type)
        if column_format is not None:
            ws.set_column_format(col, column_format)
        if column.required:
            ws.write(0, col, REQUIRED_MARK + column.header, fmt.required)
        else:
            ws.write(0, col, column.header, fmt.conditional if column.required_if else fmt.optional)
        ws.insert_note(0, col, note(_header_comment(column, headers), x_scale=2.5, y_scale=2.5))

        prompt = (_clip(column.header, 32), _clip(_type_words(column), 255))
        if column.type == "enum" and column.values:
            values = [str(v) for v in column.values]
            dv = _validation(prompt)
            if _list_fits_inline(values):
                dv.allow_list_strings(values)
            else:
                if codes_ws is None:
                    codes_ws = wb.add_worksheet(CODES_SHEET)
                    codes_ws.hide()
                codes_ws.set_column_width(codes_col, 30)
                codes_ws.set_column_format(codes_col, fmt.text)
                codes_ws.write(0, codes_col, column.header)
                for r, value in enumerate(values, start=1):
                    codes_ws.write(r, codes_col, value)
                letter = excel_column(codes_col)
                dv.allow_list_formula(f"='{CODES_SHEET}'!${letter}$2:${letter}${len(values) + 1}")
                codes_col += 1
            if column.multi:
                # Several values joined by 、 are legal: inform instead of refusing.
                dv.set_error_style("information")
                dv.set_error_title("可多选")
                dv.set_error_message("可多选，多个值用“、”分隔；单个值请从下拉列表选择。")
            else:
                dv.set_error_title("请从下拉列表选择")
                dv.set_error_message(_clip("可选值：" + "、".join(values), 255))
            ws.add_data_validation(1, col, last_row, col, dv)
        elif column.type in ("decimal", "integer"):
            dv = _validation(prompt)
            if column.type == "decimal":
                dv.allow_decimal_number("greater_than_or_equal_to", 0.0)
            else:
                dv.allow_whole_number("greater_than_or_equal_to", 0)
            dv.set_error_title("请填写数字")
            dv.set_error_message(f"请填写{TYPE_WORDS[column.type]}，不要带单位或文字。")
            ws.add_data_validation(1, col, last_row, col, dv)
        elif column.type == "date" or column.type in CODE_TYPES:
            ws.add_data_validation(1, col, last_row, col, _validation(prompt))


def _write_instructions(
    ws: Any, fmt: _Formats, contract: Any, sheet_name: str, domain: str | None, departments: list[str]
) -> None:
    for col, width in enumerate([26, 28, 36, 40, 60]):
        ws.set_column_width(col, width)
    print_setup(ws, header_rows=0)
    columns = list(contract.columns)
    headers = {c.name: c.header for c in columns}
    row = 0

    def line(label: str, text: str = "", text_format: Any = None) -> None:
        nonlocal row
        if label:
            ws.write(row, 0, label, fmt.label)
        if text:
            ws.merge_range(row, 1, row, 4, text, text_format or fmt.wrap)
        row += 1

    ws.write(row, 0, f"保山市公共信用信息平台 {contract.title} 数据报送模板 填报说明", fmt.title)
    row += 2
    line("用途", f"本模板用于各部门按月向保山市公共信用信息平台报送{contract.title}信息。数据填写在「{sheet_name}」工作表中。")
    if domain:
        line("适用领域", domain)
    if departments:
        line("报送单位", "、".join(departments))
    line("数据标准", str(contract.standard or ""))
    for i, basis in enumerate(contract.legal_basis or ()):
        line("法律依据" if i == 0 else "", str(basis))
    line("模板版本", f"v{contract.version}（请使用平台提供的最新模板，不要修改、删除或调换表头）")
    row += 1

    ws.write(row, 0, "各列填写要求（表头带 * 的列为必填）", fmt.section)
    row += 1
    for col, header in enumerate(["列名", "是否必填", "类型/格式", "可选值", "说明"]):
        ws.write(row, col, header, fmt.table_header)
    row += 1
    for column in columns:
        sep = "；" if any("、" in str(v) for v in column.values or ()) else "、"  # values that contain 、 themselves
        values = sep.join(str(v) for v in column.values or ())
        cells = [
            (REQUIRED_MARK if column.required else "") + column.header,
            _requirement(column, headers),
            _type_words(column),
            _clip(values, 2000),
            str(column.description or ""),
        ]
        for col, text in enumerate(cells):
            if text:
                ws.write(row, col, text, fmt.table_cell)
            else:
                ws.write(row, col, None, fmt.table_cell)
        row += 1
    row += 1

    ws.write(row, 0, f"填写示例（一行虚构的数据，请在「{sheet_name}」工作表中按此格式填写，不要照抄）", fmt.section)
    row += 1
    example = example_row(contract, domain)
    for column in columns:
        ws.write(row, 0, column.header, fmt.table_cell)
        ws.merge_range(row, 1, row, 4, example.get(column.name) or "", fmt.table_cell)
        row += 1
    row += 1

    ws.write(row, 0, "常见错误", fmt.section)
    row += 1
    mistakes = [
        "身份证号码、统一社会信用代码等代码列必须为文本格式。模板中这些列已设为文本，请不要改为“常规”或“数值”。"
        "如果单元格显示为 5.30502E+17 这样的科学计数法，说明号码已被 Excel 改坏（后几位已丢失），必须按原始材料重新录入。",
        "不要合并单元格：每条记录占一行，每个单元格只填一项内容。",
        "不要在表尾添加合计行、填报人、审核人等内容（会被跳过，不作为数据）。",
        f"一个文件只填一类数据：本模板只用于{contract.title}，其他类别请使用各自的模板分别报送。",
        "不收集手机号、家庭住址、银行账户等标准未列明的个人信息，请不要添加这些列；添加的列会被删除，不会入库。",
        "不要把数据放在隐藏的工作表中（隐藏的工作表不会被读取），也不要修改表头文字。",
        "日期请按 2026-10-03 的格式填写；金额、时长等数字列只填数字，不要带单位。",
    ]
    for i, text in enumerate(mistakes, start=1):
        line(f"{i}.", text)


EXAMPLE_DATE = "2026-10-08"


def example_row(contract: Any, domain: str | None = None) -> dict[str, str]:
    """A fictitious row that passes validation: valid check characters, the first allowed value of each enum (the
    domain's own, when given), one date. Shown in 填报说明; `bs-credit check` accepts it (tested for every kind and
    domain)."""
    from .identifiers import citizen_id_check_char, org_code_check_char, uscc_check_char

    org = "MA6N0PAK" + org_code_check_char("MA6N0PAK")
    person = "53050219900101123" + citizen_id_check_char("53050219900101123")
    row: dict[str, str] = {}
    for c in contract.columns:
        if c.name == getattr(contract, "domain_column", None):
            value = domain or ""  # blank: the department's default domain
        elif c.type == "enum" and c.values:
            value = c.values[0]
        elif c.type in ("uscc", "subject_code"):
            body = ("11" if "gov_organ_uscc" in c.checks else "91") + "530502" + org
            value = body + uscc_check_char(body)
        elif c.type == "org_code":
            value = org
        elif c.type in ("citizen_id", "id_number"):
            value = person
        elif c.type == "code":
            value = "JY15305020000001"[: c.max_length or 16]
        elif c.type == "date":
            value = EXAMPLE_DATE
        elif c.type == "decimal":
            value = "1.5"
        elif c.type == "integer":
            value = "8"
        else:
            value = f"示例{c.header}"[: c.max_length or 200]
        row[c.name] = str(value)
    return row


def write_template(
    contract: Any,
    out_path: str | os.PathLike,
    *,
    domain: str | None = None,
    departments: Sequence[Any] | None = None,
) -> Path:
    """Write the blank template of ``contract`` (specialised by ``domain`` if given); return the path.

    ``contract`` needs kind, title, version, standard, legal_basis, columns (each with name, header, type,
    required, required_if, values, multi, max_length, description) and, with ``domain``, ``for_domain``.
    ``departments``: names (or objects with ``name``) listed as the submitting units in 填报说明.
    """
    if domain:
        contract = contract.for_domain(domain)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    wb = Workbook()
    try:
        fmt = _Formats(wb)
        sheet_name = unique_sheet_name(str(contract.title), {INSTRUCTIONS_SHEET, CODES_SHEET, MARKER_SHEET.casefold()})
        data_ws = wb.add_worksheet(sheet_name)
        instructions_ws = wb.add_worksheet(INSTRUCTIONS_SHEET)
        _write_data_sheet(wb, data_ws, fmt, contract)  # adds the hidden 代码表 after 填报说明 when needed
        _write_instructions(instructions_ws, fmt, contract, sheet_name, domain, _department_names(departments))
        marker_ws = wb.add_worksheet(MARKER_SHEET)
        marker_ws.write(0, 0, template_marker(contract.kind, contract.version))
        marker_ws.hide()
        data_ws.set_active(True)
        wb.close(str(tmp))
        make_very_hidden(tmp, MARKER_SHEET)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, out)
    return out
