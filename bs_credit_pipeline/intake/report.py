"""Annotated copy of a submitted workbook, sent back to the department's data officer (Chinese).

Layout of the report (.xlsx, written by rust_xlsxwriter, see ``xlsx``; data sheets in constant memory):

- ``汇总``: outcome, row counts, errors by type, dropped columns, hidden sheets, notes;
- one sheet per data sheet: every kept column at its ORIGINAL column letter and every row at its ORIGINAL
  Excel row number (unused rows hidden), so cell ``C57`` of the report is cell ``C57`` of the officer's file;
  bad cells filled and commented, a final ``错误说明`` column per row. Sheets above ``full_copy_max_rows``
  rows keep only the rows with problems;
- ``错误明细``: one line per problem.

Every cell is a text cell (number format ``@``): codes and IDs must never turn into numbers again, nor a submitted
text into a formula. Rows go from Arrow to the writer in runs; Python touches only the cells it annotates. Every
sheet prints on A4 landscape, one page wide, with its header row repeated and its name in the footer.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..xlsx import Workbook, new_format, note, print_setup, write_table

if TYPE_CHECKING:
    from ..contracts import Registry
    from .validate import SheetRun

# Above this many rows a data sheet keeps only its rows with problems (row numbers unchanged): the officer needs
# the rows to fix, and a full copy of a 1 M-row file would cost more time and memory than the check itself.
REPORT_FULL_COPY_MAX_ROWS = 200_000
REPORT_MAX_COMMENTS_PER_SHEET = 2_000
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLS = 16_384
SHANGHAI = ZoneInfo("Asia/Shanghai")

SUMMARY_SHEET = "汇总"
DETAIL_SHEET = "错误明细"
EXPLAIN_HEADER = "错误说明"
GAP_HEADER = "（未导入）"
AUTHOR = "保山市公共信用信息平台"

STATUS_WORDS = {"accepted": "全部通过", "partial": "部分通过", "rejected": "整体退回"}
SEVERITY_WORDS = {"error": "错误", "warning": "提示"}
SEVERITY_EFFECT = {"error": "错误（该行退回）", "warning": "提示（该行已入库，请核实）"}

PROBLEM_SCHEMA = pa.schema(
    [
        ("sheet", pa.string()),
        ("excel_row", pa.int64()),
        ("excel_column", pa.string()),
        ("header", pa.string()),
        ("raw_value", pa.string()),
        ("code", pa.string()),
        ("severity", pa.string()),
        ("message", pa.string()),
        ("hint", pa.string()),
    ]
)
DETAIL_HEADERS = ["工作表", "行号", "列", "列名", "原始值", "错误类型", "级别", "说明", "修改建议"]
_DETAIL_WIDTHS = [14, 8, 6, 20, 24, 18, 6, 50, 50]
_INVALID_SHEET_CHARS = str.maketrans({c: "_" for c in "[]:*?/\\"})


@dataclass(frozen=True)
class ReportSheet:
    """One data sheet as read: kept columns only, rows ascending by Excel row number."""

    name: str
    headers: Sequence[str]
    excel_columns: Sequence[str]
    rows: Iterable[tuple[int, Sequence[str | None]]]


class ArrowRows:
    """Sized iterable of ``(excel_row, cells)`` over a string table, converted batch by batch."""

    def __init__(self, table: pa.Table, row_numbers: Sequence[int], batch_size: int = 8192):
        if len(row_numbers) != table.num_rows:
            raise ValueError("row_numbers must have one entry per table row")
        self._table = table
        self._row_numbers = row_numbers
        self._batch_size = batch_size

    def __len__(self) -> int:
        return self._table.num_rows

    @property
    def table(self) -> pa.Table:
        return self._table

    @property
    def row_numbers(self) -> np.ndarray:
        return np.asarray(self._row_numbers, dtype=np.int64)

    def __iter__(self) -> Iterator[tuple[int, list[str | None]]]:
        for start in range(0, self._table.num_rows, self._batch_size):
            chunk = self._table.slice(start, self._batch_size)
            columns = [chunk.column(i).to_pylist() for i in range(chunk.num_columns)]
            numbers = self._row_numbers[start : start + chunk.num_rows]
            for offset, cells in enumerate(zip(*columns)):
                yield int(numbers[offset]), list(cells)


def column_index(letter: str) -> int:
    """0-based index of an Excel column letter (``A`` -> 0, ``AA`` -> 26)."""
    index = 0
    for char in letter.strip().upper():
        if not "A" <= char <= "Z":
            raise ValueError(f"not an Excel column letter: {letter!r}")
        index = index * 26 + ord(char) - 64
    if not 1 <= index <= EXCEL_MAX_COLS:
        raise ValueError(f"Excel column out of range: {letter!r}")
    return index - 1


def excel_column(index: int) -> str:
    """0-based column index → Excel letters (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def display_width(text: str) -> int:
    """Width of ``text`` in Excel character units (CJK characters count double)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key, default)
    return getattr(obj, key, default)


def _local_time(value: Any) -> str:
    """A timestamp (datetime or ISO text) as Asia/Shanghai wall-clock time; other text unchanged."""
    moment = value
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is not None:
            moment = moment.astimezone(SHANGHAI)
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return _text(value)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _problem_table(problems: pa.Table | Sequence[Mapping[str, Any]]) -> pa.Table:
    if not isinstance(problems, pa.Table):
        return pa.Table.from_pylist(list(problems), schema=PROBLEM_SCHEMA)
    columns = []
    for field in PROBLEM_SCHEMA:
        if field.name in problems.column_names:
            columns.append(problems.column(field.name).cast(field.type))
        else:
            columns.append(pa.nulls(problems.num_rows, field.type))
    return pa.Table.from_arrays(columns, schema=PROBLEM_SCHEMA)


def _sheet_problem_groups(problems: pa.Table, sheet: str) -> Iterator[tuple[int, list[dict]]]:
    """Problems of one sheet grouped by Excel row, ascending (stable within a row)."""
    own = problems.filter(pc.equal(problems["sheet"], sheet))
    own = own.filter(pc.is_valid(own["excel_row"])).sort_by([("excel_row", "ascending")])
    records = itertools.chain.from_iterable(b.to_pylist() for b in own.to_batches(max_chunksize=8192))
    for row, group in itertools.groupby(records, key=lambda p: p["excel_row"]):
        yield row, list(group)


def unique_sheet_name(name: str, used: set[str]) -> str:
    """A valid Excel sheet name for `name`, unique (case-insensitively) within `used`, which it extends."""
    base = name.translate(_INVALID_SHEET_CHARS).strip("'").strip() or "Sheet"
    candidate, n = base[:31], 1
    while candidate.casefold() in used:
        n += 1
        suffix = f"({n})"
        candidate = base[: 31 - len(suffix)] + suffix
    used.add(candidate.casefold())
    return candidate


class _Formats:
    def __init__(self, wb: Workbook):
        def add(spec: dict) -> Any:
            return new_format(wb, spec)

        self.title = add({"bold": True, "font_size": 16})
        self.label = add({"bold": True, "bg_color": "#F2F2F2", "border": 1, "valign": "top"})
        self.value = add({"border": 1, "text_wrap": True, "valign": "top"})
        self.note = add({"text_wrap": True, "valign": "top"})
        self.section = add({"bold": True, "font_size": 12, "bottom": 2})
        status = {"bold": True, "font_size": 14, "border": 1}
        self.status = {
            "accepted": add({**status, "font_color": "#006100", "bg_color": "#C6EFCE"}),
            "partial": add({**status, "font_color": "#9C5700", "bg_color": "#FFEB9C"}),
            "rejected": add({**status, "font_color": "#9C0006", "bg_color": "#FFC7CE"}),
        }
        self.alarm_title = add({"bold": True, "font_size": 20, "font_color": "#C00000"})
        self.alarm = add(
            {"bold": True, "font_size": 14, "font_color": "#C00000", "text_wrap": True, "valign": "top", "border": 2}
        )
        self.header = add(
            {"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True, "valign": "top", "num_format": "@"}
        )
        self.gap_header = add(
            {"italic": True, "font_color": "#808080", "bg_color": "#EDEDED", "border": 1, "num_format": "@"}
        )
        self.cell = add({"num_format": "@"})
        self.cell_error = add({"num_format": "@", "bg_color": "#FFC7CE"})
        self.cell_warning = add({"num_format": "@", "bg_color": "#FFEB9C"})
        self.explain_error = add({"num_format": "@", "font_color": "#C00000"})
        self.explain_warning = add({"num_format": "@", "font_color": "#9C5700"})


def _problem_line(p: Mapping[str, Any]) -> str:
    tag = "【错误】" if p["severity"] == "error" else "【提示】"
    where = f"{p['header']}：" if p.get("header") else ""
    return f"{tag}{where}{_text(p['message'])}"


def _comment_text(cell_problems: list[dict]) -> str:
    parts = []
    for p in cell_problems:
        text = _text(p["message"])
        if p.get("hint"):
            text += f"\n修改建议：{p['hint']}"
        parts.append(text)
    return "\n\n".join(parts)


@dataclass
class _SheetOutcome:
    source: str
    written_as: str
    row_count: int
    rows_written: int
    problem_rows_only: bool
    comments_capped: int
    rows_beyond_excel: int


def _prepare_data_sheet(
    ws: Any, fmt: _Formats, source: str, headers: list[str], positions: list[int], sample: pa.Table
) -> tuple[int, int]:
    """Widths, header row (gaps marked), frozen header, page set-up; returns (first column, 错误说明 column)."""
    first_col = min(positions, default=0)
    explain_col = max(positions, default=-1) + 1
    if explain_col >= EXCEL_MAX_COLS:
        raise ValueError(f"sheet {source!r}: no room for the {EXPLAIN_HEADER} column")
    widths = {pos: display_width(h) + 2 for pos, h in zip(positions, headers)}
    for pos, values in zip(positions, sample.columns):
        for value in values.to_pylist():
            widths[pos] = max(widths[pos], display_width(_text(value)[:60]) + 2)
    for pos in range(first_col, explain_col):
        if pos in widths:
            ws.set_column_width(pos, min(max(widths[pos], 8), 40))
            ws.set_column_format(pos, fmt.cell)
        else:
            ws.set_column_width(pos, 10)
    ws.set_column_width(explain_col, 70)
    ws.set_column_format(explain_col, fmt.cell)
    header_cells = dict.fromkeys(range(first_col, explain_col), (GAP_HEADER, fmt.gap_header))
    header_cells.update({pos: (header, fmt.header) for pos, header in zip(positions, headers)})
    header_cells[explain_col] = (EXPLAIN_HEADER, fmt.header)
    for pos in sorted(header_cells):  # constant memory: cells of a row in column order
        text, cell_format = header_cells[pos]
        ws.write(0, pos, text, cell_format)
    ws.insert_note(0, explain_col, note(
        "本列汇总该行的全部问题。【错误】的行未入库，请修改后重新报送；【提示】的行已入库，请核实。", x_scale=2))
    ws.set_default_note_author(AUTHOR)
    ws.hide_unused_rows(True)  # rows that are not copied (title, blank, footer) stay hidden
    ws.freeze_panes(1, 0)
    print_setup(ws)
    return first_col, explain_col


def _sheet_rows(sheet: Any, width: int) -> tuple[pa.Table, np.ndarray]:
    """A sheet's kept cells as a table of strings (columns in `excel_columns` order) and its Excel row numbers."""
    rows = _get(sheet, "rows")
    if isinstance(rows, ArrowRows):
        table = rows.table
        return table.rename_columns([str(i) for i in range(table.num_columns)]), rows.row_numbers
    rows = list(rows)
    numbers = np.array([int(r) for r, _ in rows], dtype=np.int64)
    columns = {str(i): pa.array([None if cells[i] is None else _text(cells[i]) for _, cells in rows], pa.string())
               for i in range(width)}
    return pa.table(columns), numbers


def _write_data_sheet(
    wb: Workbook,
    fmt: _Formats,
    sheet: Any,
    sheet_name: str,
    problems: pa.Table,
    full_copy_max_rows: int,
    max_comments: int,
) -> _SheetOutcome:
    source = _get(sheet, "name")
    headers = [_text(h) for h in _get(sheet, "headers")]
    letters = [str(c).upper() for c in _get(sheet, "excel_columns")]
    if len(headers) != len(letters):
        raise ValueError(f"sheet {source!r}: headers and excel_columns differ in length")
    positions = [column_index(c) for c in letters]
    pos_of_letter = dict(zip(letters, positions))
    table, numbers = _sheet_rows(sheet, len(positions))
    if len(numbers) and (numbers[0] <= 1 or np.any(np.diff(numbers) <= 0)):
        raise ValueError(f"sheet {source!r}: rows must be below the header, in ascending Excel row order")
    row_count = len(numbers)
    problem_rows_only = row_count > full_copy_max_rows

    ws = wb.add_worksheet(sheet_name, constant_memory=True)
    first_col, explain_col = _prepare_data_sheet(ws, fmt, source, headers, positions, table.slice(0, 50))

    groups = dict(_sheet_problem_groups(problems, source))
    has_problem = np.isin(numbers, np.fromiter(groups, dtype=np.int64, count=len(groups)))
    keep = (has_problem if problem_rows_only else np.ones(row_count, dtype=bool)) & (numbers <= EXCEL_MAX_ROWS)
    beyond = int(np.count_nonzero((has_problem if problem_rows_only else True) & (numbers > EXCEL_MAX_ROWS)))
    kept = np.flatnonzero(keep)
    rows, marked = numbers[kept], has_problem[kept]
    by_pos = dict(zip(positions, table.columns))
    padded = pa.table({str(pos): by_pos[pos] if pos in by_pos else pa.nulls(row_count, pa.string())
                       for pos in range(first_col, explain_col)})
    if len(kept) != row_count:
        padded = padded.take(pa.array(kept))
    # Runs of consecutive rows without problems go to the writer whole; each problem row is written cell by cell
    # (no run when no row is kept: a sheet above the full-copy threshold without problems).
    starts = np.flatnonzero(np.concatenate(([len(rows) > 0], (np.diff(rows) != 1) | marked[1:] | marked[:-1])))
    ends = np.append(starts[1:], len(rows))
    comments = comments_capped = 0
    for a, b in zip(starts.tolist(), ends.tolist()):
        if not marked[a]:
            write_table(ws, int(rows[a]) - 1, first_col, padded.slice(a, b - a), fmt.cell)
            continue
        excel_row = int(rows[a])
        r = excel_row - 1
        row_problems = groups[excel_row]
        cells = [padded.column(pos - first_col)[a].as_py() for pos in positions]
        by_cell: dict[int, list[dict]] = {}
        for p in row_problems:
            pos = pos_of_letter.get(_text(p["excel_column"]).upper())
            if pos is not None:
                by_cell.setdefault(pos, []).append(p)
        for pos, value in sorted(zip(positions, cells)):
            cell_problems = by_cell.get(pos)
            text = _text(value)
            if cell_problems is None:
                if text:
                    ws.write(r, pos, text, fmt.cell)
                continue
            is_error = any(p["severity"] == "error" for p in cell_problems)
            ws.write(r, pos, text or None, fmt.cell_error if is_error else fmt.cell_warning)
            if comments < max_comments:
                ws.insert_note(r, pos, note(_comment_text(cell_problems), x_scale=2.5, y_scale=2))
                comments += 1
            else:
                comments_capped += 1
        rejected = any(p["severity"] == "error" for p in row_problems)
        ws.write(r, explain_col, "；".join(_problem_line(p) for p in row_problems),
                 fmt.explain_error if rejected else fmt.explain_warning)
    last_row = int(rows[-1]) - 1 if len(rows) else 0
    ws.autofilter(0, first_col, last_row, explain_col)
    return _SheetOutcome(source, sheet_name, row_count, len(rows), problem_rows_only, comments_capped, beyond)


def _detail_table(
    problems: pa.Table,
    kept_columns: Mapping[str, set[str]],
    code_titles: Mapping[str, str],
    dropped: set[str],
) -> pa.Table:
    """One line per problem, in sheet, row and column order, as the strings of 错误明细.

    A raw value is shown only for kept columns: never for a dropped column, nor for a cell outside the
    columns the report copies.
    """
    order = pc.index_in(problems["sheet"], value_set=pa.array(list(kept_columns), pa.string()))
    keyed = problems.append_column("_order", order).append_column(
        "_col_len", pc.utf8_length(problems["excel_column"])
    )
    sort_keys = [(name, "ascending", "at_start") for name in ("_order", "excel_row", "_col_len", "excel_column")]
    p = keyed.take(pc.sort_indices(keyed, sort_keys=sort_keys))

    def text(name: str) -> pa.ChunkedArray:
        return pc.fill_null(p[name].cast(pa.string()), "")

    def mapped(values: pa.ChunkedArray, mapping: Mapping[str, str]) -> pa.Array:
        distinct = pc.unique(values)
        words = pa.array([mapping.get(v, v) for v in distinct.to_pylist()], pa.string())
        return words.take(pc.index_in(values, value_set=distinct))

    sheet, letter = text("sheet"), pc.utf8_upper(text("excel_column"))
    whole_row = pc.if_else(pc.is_valid(p["excel_row"]), "（整行）", "")
    column = pc.if_else(pc.equal(text("excel_column"), ""), whole_row, text("excel_column"))
    pairs = pa.array([f"{s}\x1f{c}" for s, cols in kept_columns.items() for c in cols], pa.string())
    outside = pc.and_(pc.and_(pc.not_equal(letter, ""), pc.is_in(sheet, value_set=pa.array(list(kept_columns),
                                                                                           pa.string()))),
                      pc.invert(pc.is_in(pc.binary_join_element_wise(sheet, letter, "\x1f"), value_set=pairs)))
    hide_raw = pc.or_(pc.is_in(text("header"), value_set=pa.array(sorted(dropped), pa.string())), outside)
    columns = [sheet, text("excel_row"), column, text("header"), pc.if_else(hide_raw, "", text("raw_value")),
               mapped(text("code"), code_titles), mapped(text("severity"), SEVERITY_WORDS), text("message"),
               text("hint")]
    return pa.table([pc.if_else(pc.equal(c, ""), pa.scalar(None, pa.string()), c) for c in columns],
                    names=DETAIL_HEADERS)


def _write_detail_sheet(
    ws: Any,
    fmt: _Formats,
    problems: pa.Table,
    kept_columns: Mapping[str, set[str]],
    code_titles: Mapping[str, str],
    dropped: set[str],
) -> int:
    """Write every problem that fits on a sheet; return how many did not."""
    for col, width in enumerate(_DETAIL_WIDTHS):
        ws.set_column_width(col, width)
        ws.set_column_format(col, fmt.cell)
    ws.freeze_panes(1, 0)
    print_setup(ws)
    capacity = EXCEL_MAX_ROWS - 1
    lines = _detail_table(problems, kept_columns, code_titles, dropped).slice(0, capacity)
    write_table(ws, 0, 0, lines, fmt.cell, header_format=fmt.header)
    ws.autofilter(0, 0, lines.num_rows, len(DETAIL_HEADERS) - 1)
    return max(0, problems.num_rows - capacity)


def _code_facts(problems: pa.Table) -> dict[str, tuple[str, str]]:
    """First (severity, hint) seen for each code, each the first that is not null. pyarrow.compute and numpy, not
    Table.group_by: that loads Acero (pyarrow.acero, pyarrow.dataset) into every `check` for this one lookup."""
    codes = problems["code"]
    severity, hint = (_first_valid(codes, problems[column]) for column in ("severity", "hint"))
    return {code: (_text(severity.get(code)), _text(hint.get(code)))
            for code in pc.unique(codes).to_pylist() if code is not None}


def _first_valid(keys: pa.ChunkedArray, values: pa.ChunkedArray) -> dict:
    """key -> its first value that is not null (keys whose values are all null are absent)."""
    valid = pc.is_valid(values)
    keys, values = keys.filter(valid), values.filter(valid)
    first = np.unique(pc.index_in(keys, value_set=pc.unique(keys)).to_numpy(), return_index=True)[1]
    return dict(zip(keys.take(first).to_pylist(), values.take(first).to_pylist()))


def _write_summary(
    ws: Any,
    fmt: _Formats,
    *,
    file_name: str,
    department_name: str,
    month: str,
    kind_title: str | None,
    summary: Mapping[str, Any],
    code_facts: Mapping[str, tuple[str, str]],
    outcomes: list[_SheetOutcome],
    full_copy_max_rows: int,
    max_comments: int,
    detail_overflow: int,
) -> None:
    for col, width in enumerate([26, 70, 10, 60]):
        ws.set_column_width(col, width)
    row = 0

    def line(text: str, cell_format: Any = None, height: float | None = None) -> None:
        nonlocal row
        if height:
            ws.set_row_height(row, height)
        ws.merge_range(row, 0, row, 3, text, cell_format or fmt.note)
        row += 1

    def pair(label: str, value: str, value_format: Any = None) -> None:
        nonlocal row
        ws.write(row, 0, label, fmt.label)
        ws.write(row, 1, value, value_format or fmt.value)
        row += 1

    line("保山市公共信用信息平台 数据校验报告", fmt.title, 28)
    row += 1
    file_error = summary.get("file_error")
    if file_error:
        line("文件被整体退回，未导入任何数据", fmt.alarm_title, 32)
        line(f"原因：{_text(_get(file_error, 'message'))}", fmt.alarm, 60)
        line(f"如何修改：{_text(_get(file_error, 'hint'))}", fmt.alarm, 80)
        row += 1

    status = _text(summary.get("status"))
    pair("文件名", file_name)
    pair("报送单位", department_name)
    pair("月份", month)
    pair("数据类别", kind_title or _text(summary.get("kind_title")) or "未能识别")
    pair("处理时间", _local_time(summary.get("processed_at")))
    pair("校验结果", STATUS_WORDS.get(status, status), fmt.status.get(status))
    row += 1

    counts = {key: int(summary.get(key) or 0) for key in ("rows_read", "rows_loaded", "rows_rejected", "rows_skipped")}
    pair("读取行数", str(counts["rows_read"]))
    pair("入库行数", str(counts["rows_loaded"]))
    pair("退回行数", str(counts["rows_rejected"]))
    pair("跳过的空行和表尾行", str(counts["rows_skipped"]))
    balanced = counts["rows_read"] == counts["rows_loaded"] + counts["rows_rejected"]
    pair(
        "核对：读取 = 入库 + 退回",
        f"{counts['rows_read']} = {counts['rows_loaded']} + {counts['rows_rejected']}"
        + ("" if balanced else "（不一致，请联系信用办）"),
    )
    row += 1

    error_counts = {**(summary.get("warning_counts") or {}), **(summary.get("error_counts") or {})}
    code_titles = summary.get("code_titles") or {}
    if error_counts:
        line("问题类型统计", fmt.section)
        for col, header in enumerate(["问题类型", "说明", "数量", "修改建议"]):
            ws.write(row, col, header, fmt.header)
        row += 1
        for code, n in sorted(error_counts.items(), key=lambda item: (-item[1], item[0])):
            severity, hint = code_facts.get(code, ("", ""))
            lines = max(1, -(-display_width(hint) // 50))  # the hint column is 60 wide; writers do not autofit
            ws.set_row_height(row, 15 * lines)
            ws.write(row, 0, _text(code_titles.get(code, code)), fmt.value)
            ws.write(row, 1, SEVERITY_EFFECT.get(severity, ""), fmt.value)
            ws.write(row, 2, str(n), fmt.value)
            ws.write(row, 3, hint or None, fmt.value)
            row += 1
        row += 1

    def listed(title: str, explanation: str, items, height: int) -> None:
        nonlocal row
        items = [_text(x) for x in items or []]
        if items:
            line(title, fmt.section)
            line(explanation, height=height)
            for item in items:
                line(f"· {item}")
            row += 1

    listed("已删除的列",
           "以下列不是本类数据标准规定的字段。平台不采集标准未列明的个人信息（如手机号、家庭住址、银行账户等），"
           "这些列已从数据中删除，未入库，也未保存；报告中也不显示其内容。今后报送请不要填写这些列。",
           summary.get("dropped_columns"), 48)
    listed("未读取的隐藏工作表",
           "以下工作表处于隐藏状态，平台没有读取其中的数据。如需报送，请取消隐藏或把数据移到可见的工作表：",
           summary.get("hidden_sheets"), 32)
    listed("未读取的工作表",
           "以下工作表中没有找到本类数据的表头，平台没有读取。如其中有要报送的数据，请使用模板的表头：",
           summary.get("ignored_sheets"), 32)

    notes = []
    for o in outcomes:
        if o.written_as != o.source:
            notes.append(f"工作表「{o.source}」在本报告中名为「{o.written_as}」。")
        if o.problem_rows_only:
            notes.append(
                f"工作表「{o.source}」共 {o.row_count} 行，超过 {full_copy_max_rows} 行，"
                f"本报告只复制有问题的 {o.rows_written} 行（行号与原文件一致）。"
            )
        if o.comments_capped:
            notes.append(
                f"工作表「{o.source}」问题单元格较多，只有前 {max_comments} 个加了批注，"
                f"其余 {o.comments_capped} 个只用颜色标出，请看「{EXPLAIN_HEADER}」列和「{DETAIL_SHEET}」表。"
            )
        if o.rows_beyond_excel:
            notes.append(
                f"工作表「{o.source}」有 {o.rows_beyond_excel} 行超出 Excel 的行数上限，未复制到本报告，"
                f"请看「{DETAIL_SHEET}」表。"
            )
    if detail_overflow:
        notes.append(f"问题过多，「{DETAIL_SHEET}」表未能列出最后 {detail_overflow} 条。")
    if outcomes:
        line("如何阅读本报告", fmt.section)
        line(
            "各数据表保留原文件的行号和列位置（未导入的行已隐藏），可按行号、列号在原文件中找到对应单元格。"
            "红色单元格为错误，该行未入库；黄色单元格为提示，该行已入库，请核实。鼠标移到单元格上可查看批注，"
            f"每行的全部问题汇总在最后的「{EXPLAIN_HEADER}」列，全部问题另列在「{DETAIL_SHEET}」表。"
            "请在原文件中修改后重新报送。",
            height=64,
        )
    for note in notes:
        line(note, height=32)


def write_report(
    out_path: str | os.PathLike,
    *,
    file_name: str,
    department_name: str,
    month: str,
    kind_title: str | None,
    sheets: Sequence[Any],
    problems: pa.Table | Sequence[Mapping[str, Any]],
    summary: Mapping[str, Any],
    full_copy_max_rows: int = REPORT_FULL_COPY_MAX_ROWS,
    max_comments_per_sheet: int = REPORT_MAX_COMMENTS_PER_SHEET,
) -> Path:
    """Write the annotated report workbook (atomically) and return its path.

    ``sheets``: objects or dicts with ``name``, ``headers``, ``excel_columns``, ``rows`` (iterable of
    ``(excel_row, cells)`` in ascending row order; kept columns only; an ``ArrowRows`` goes to the writer whole).
    ``problems``: pyarrow Table or list of dicts (see ``PROBLEM_SCHEMA``; other columns are ignored).
    ``summary``: rows_read, rows_loaded, rows_rejected, rows_skipped, status, file_error, error_counts,
    code_titles, dropped_columns, hidden_sheets, kind_title, processed_at; optionally warning_counts and
    ignored_sheets (sheets without a recognisable header).
    """
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    problem_table = _problem_table(problems)
    dropped = {_text(h) for h in summary.get("dropped_columns") or []}

    wb = Workbook()
    try:
        fmt = _Formats(wb)
        summary_ws = wb.add_worksheet(SUMMARY_SHEET)
        summary_ws.set_default_note_author(AUTHOR)
        print_setup(summary_ws, header_rows=0)
        used = {SUMMARY_SHEET.casefold(), DETAIL_SHEET.casefold()}
        outcomes = [
            _write_data_sheet(
                wb,
                fmt,
                sheet,
                unique_sheet_name(_text(_get(sheet, "name")), used),
                problem_table,
                full_copy_max_rows,
                max_comments_per_sheet,
            )
            for sheet in sheets
        ]
        detail_overflow = 0
        if problem_table.num_rows:
            detail_overflow = _write_detail_sheet(
                wb.add_worksheet(DETAIL_SHEET, constant_memory=True),
                fmt,
                problem_table,
                {_text(_get(s, "name")): {str(c).upper() for c in _get(s, "excel_columns")} for s in sheets},
                summary.get("code_titles") or {},
                dropped,
            )
        _write_summary(
            summary_ws,
            fmt,
            file_name=file_name,
            department_name=department_name,
            month=month,
            kind_title=kind_title,
            summary=summary,
            code_facts=_code_facts(problem_table),
            outcomes=outcomes,
            full_copy_max_rows=full_copy_max_rows,
            max_comments=max_comments_per_sheet,
            detail_overflow=detail_overflow,
        )
        summary_ws.set_active(True)
        wb.close(str(tmp))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, out)
    return out


# ---------------------------------------------------------------------------------------------------- intake runs


def by_sheet(runs: list[SheetRun]) -> list[list[SheetRun]]:
    """Consecutive runs of the same sheet (a large sheet is validated in several chunks)."""
    groups: list[list[SheetRun]] = []
    for run in runs:
        if groups and groups[-1][0].match.sheet is run.match.sheet:
            groups[-1].append(run)
        else:
            groups.append([run])
    return groups


def sheet_view(runs: list[SheetRun]) -> ReportSheet:
    """One sheet's rows as read (all its runs), kept columns only, converted to Python lazily by the writer."""
    match = runs[0].match
    sheet = match.sheet
    cols = sorted(match.columns)
    table = pa.table({str(j): pa.chunked_array([c for r in runs for c in r.raw[match.columns[i]].chunks], pa.string())
                      for j, i in enumerate(cols)})
    row_numbers = np.concatenate([r.row_numbers for r in runs])
    return ReportSheet(sheet.name, [match.headers.get(i, "") for i in cols],
                       [excel_column(i + sheet.col_offset) for i in cols], ArrowRows(table, row_numbers))


def write_file_report(registry: Registry, out_dir: Path, path: Path, dept, month: str, kind_title: str | None,
                      manifest: dict, problems: pa.Table, sheets: list[ReportSheet]) -> Path:
    """The report of one intake run, named after the submitted file and its content hash, in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{path.stem}_校验报告_{manifest['sha256'][:8]}.xlsx"
    titles = {code: registry.message_title(code)
              for code in set(manifest["error_counts"]) | set(manifest["warning_counts"])}
    summary = {k: manifest[k] for k in ("rows_read", "rows_loaded", "rows_rejected", "rows_skipped", "status",
                                         "file_error", "error_counts", "hidden_sheets")}
    summary.update({
        "code_titles": titles, "kind_title": kind_title or "未识别",
        "dropped_columns": [f"{d['sheet']}!{d['column']} {d['header']}" for d in manifest["dropped_columns"]],
        "processed_at": manifest["processed_at"], "warning_counts": manifest["warning_counts"],
        "ignored_sheets": manifest["ignored_sheets"],
    })
    return write_report(
        out, file_name=path.name, department_name=dept.name if dept else manifest["department"], month=month,
        kind_title=kind_title or "未识别", sheets=sheets, problems=problems, summary=summary)
