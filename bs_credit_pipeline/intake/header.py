"""Locate the header row(s) of a sheet, map its headers to contract columns, detect the record kind.

Data officers' sheets carry a merged title row, two header rows, blank rows and footer rows (合计, 填报人 ...).
Headers are matched by the contract's Chinese header and aliases after `contracts.normalise_header`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..contracts import Contract, normalise_header
from ..identifiers import string_buffers
from .read import SheetData, Workbook
from ..templates import CODES_SHEET, INSTRUCTIONS_SHEET

SCAN_ROWS = 30
MIN_MATCHES = 2
MIN_REQUIRED_COVERAGE = 0.5
TEMPLATE_SHEETS = frozenset({INSTRUCTIONS_SHEET, CODES_SHEET})
FOOTER_RE = re.compile(
    r"^(合\s*计|总\s*计|小\s*计|填报人|填表人|填报单位|填报日期|填表日期|审核人|审核|负责人|制表|联系人|联系电话|"
    r"备\s*注|说\s*明\s*[:：]|注\s*[:：]|注\s*\d)"
)


@dataclass
class HeaderMatch:
    """How one sheet's columns map to a contract."""

    sheet: SheetData
    header_rows: tuple[int, ...]  # 0-based table rows holding the header
    columns: dict[int, str]  # table column -> canonical column name
    headers: dict[int, str]  # table column -> header text as written in the file
    dropped: list[int] = field(default_factory=list)  # columns no contract names (not read)
    duplicates: list[int] = field(default_factory=list)  # a second column mapping to the same name

    @property
    def data_start(self) -> int:
        return self.header_rows[-1] + 1

    def required_missing(self, contract: Contract) -> list[str]:
        present = set(self.columns.values())
        return [c.header for c in contract.columns if c.required and c.name not in present]


def _head(sheet: SheetData) -> list[list[str]]:
    rows = sheet.table.slice(0, SCAN_ROWS).to_pylist()
    names = sheet.table.column_names
    return [[(r[n] or "").strip() for n in names] for r in rows]


def _row_matches(cells: list[str], index: dict[str, str]) -> dict[int, str]:
    out: dict[int, str] = {}
    seen: set[str] = set()
    for i, text in enumerate(cells):
        name = index.get(normalise_header(text)) if text else None
        if name and name not in seen:
            out[i] = name
            seen.add(name)
    return out


def _combine(upper: list[str], lower: list[str]) -> list[str]:
    """Two header rows: the lower (sub-header) text wins where present, else the merged parent text."""
    return [lo or up for up, lo in zip(upper, lower)]


def match_sheet(sheet: SheetData, contract: Contract) -> HeaderMatch | None:
    """Find the header row(s) of `sheet` for `contract`; None when fewer than two headers match."""
    if sheet.table.num_rows == 0:
        return None
    head = _head(sheet)
    index = contract.header_index()
    best: tuple[int, tuple[int, ...], list[str]] | None = None
    for r, cells in enumerate(head):
        candidates = [((r,), cells)]
        if r + 1 < len(head):
            candidates.append(((r, r + 1), _combine(cells, head[r + 1])))
        for rows, texts in candidates:
            score = len(_row_matches(texts, index))
            if best is None or score > best[0]:
                best = (score, rows, texts)
    if best is None or best[0] < MIN_MATCHES:
        return None
    _, rows, texts = best
    matches = _row_matches(texts, index)
    headers = {i: t for i, t in enumerate(texts) if t}
    dropped, duplicates = [], []
    mapped_names = set(matches.values())
    for i, t in headers.items():
        if i in matches:
            continue
        (duplicates if index.get(normalise_header(t)) in mapped_names else dropped).append(i)
    # Columns with data but no header at all are dropped too (they cannot be attributed to any field).
    start = rows[-1] + 1
    for i, name in enumerate(sheet.table.column_names):
        if i not in headers and sheet.table.num_rows > start:
            col = sheet.table.column(name).slice(start)
            if _column_has_text(col):
                headers[i] = ""
                dropped.append(i)
    return HeaderMatch(sheet, rows, matches, headers, sorted(dropped), sorted(duplicates))


def _column_has_text(col: pa.ChunkedArray) -> bool:
    trimmed = pc.utf8_trim_whitespace(col)
    return bool(pc.any(pc.greater(pc.utf8_length(trimmed), 0)).as_py())


@dataclass
class KindDetection:
    contract: Contract | None
    how: str  # marker | file_name | headers | none
    scores: dict[str, tuple[float, int]]  # kind -> (required coverage, matched headers)


def _score(workbook: Workbook, contract: Contract) -> tuple[float, int]:
    required = [c.name for c in contract.columns if c.required]
    best = (0.0, 0)
    for sheet in workbook.sheets:
        m = match_sheet(sheet, contract)
        if m is None:
            continue
        present = set(m.columns.values())
        coverage = sum(1 for r in required if r in present) / max(len(required), 1)
        best = max(best, (coverage, len(present)))
    return best


def detect_kind(workbook: Workbook, file_name: str, contracts: dict[str, Contract]) -> KindDetection:
    """The template marker wins; then a file name naming one kind; then the best header signature."""
    scores = {kind: _score(workbook, c) for kind, c in contracts.items()}
    marker = workbook.marker or ""
    m = re.match(r"^bs-credit-template:([a-z_]+):v\d+$", marker.strip())
    if m and m.group(1) in contracts:
        return KindDetection(contracts[m.group(1)], "marker", scores)
    stem = normalise_header(file_name.rsplit(".", 1)[0])
    named = [
        k for k, c in contracts.items()
        if any(normalise_header(a) in stem for a in (c.title, *c.file_name_aliases) if a)
    ]
    if len(named) == 1 and scores[named[0]][1] >= MIN_MATCHES:
        return KindDetection(contracts[named[0]], "file_name", scores)
    kind, (coverage, matched) = max(scores.items(), key=lambda kv: (kv[1], kv[0]))
    if coverage >= MIN_REQUIRED_COVERAGE and matched >= MIN_MATCHES:
        return KindDetection(contracts[kind], "headers", scores)
    return KindDetection(None, "none", scores)


def _has_text(values: pa.Array) -> np.ndarray:
    """Per cell: holds something besides whitespace. A cell starting with a visible ASCII character or a CJK
    ideograph is decided from its first byte; only the others are trimmed and measured."""
    def exact(arr: pa.Array) -> np.ndarray:
        trimmed = pc.utf8_trim_whitespace(arr if arr.type == pa.string() else arr.cast(pa.string()))
        return np.asarray(pc.fill_null(pc.greater(pc.utf8_length(trimmed), 0), False)
                          .to_numpy(zero_copy_only=False), dtype=bool)

    if values.type != pa.string() or len(values) == 0:
        return exact(values)
    offsets, data = string_buffers(values)
    if offsets[-1] == offsets[0]:
        return np.zeros(len(values), dtype=bool)
    filled = np.diff(offsets) > 0
    if values.null_count:
        filled &= values.is_valid().to_numpy(zero_copy_only=False)
    first = data[np.minimum(offsets[:-1], len(data) - 1)]
    visible = filled & (((first - np.uint8(0x21)) <= 0x5D) | ((first - np.uint8(0xE4)) <= 5))
    unsure = filled & ~visible
    if unsure.any():
        visible[unsure] = exact(values.filter(pa.array(unsure)))
    return visible


def footer_or_blank(table: pa.Table) -> tuple[pa.Array, pa.Array]:
    """Masks of blank rows and footer rows (合计, 填报人, 审核人, 备注：...) over every column of the sheet.

    A footer row has few filled cells and its first filled cell starts like a footer; only such sparse rows have
    their text looked at.
    """
    n, width = table.num_rows, table.num_columns
    count = np.zeros(n, dtype=np.int32)
    first = np.full(n, -1, dtype=np.int32)
    for j in reversed(range(width)):
        has = np.concatenate([_has_text(chunk) for chunk in table.column(j).chunks] or [np.zeros(0, bool)])
        count += has
        first[has] = j
    footer = np.zeros(n, dtype=bool)
    limit = max(3, width // 3)
    for i in np.flatnonzero((count > 0) & (count <= limit)):
        text = table.column(int(first[i]))[int(i)].as_py().strip()
        footer[i] = FOOTER_RE.match(text) is not None
    return pa.array(count == 0), pa.array(footer)
