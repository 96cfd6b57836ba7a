"""Validate: the rows of every sheet that matches the contract, each row against its domain's variant.

Blank and footer rows are skipped (not data); a sheet of at least two chunks (`chunk_rows`) is validated in
chunks on up to `workers` threads (the Arrow, numpy and DuckDB work inside releases the GIL), one `SheetRun`
per chunk, in sheet order.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..contracts import Contract, Registry
from ..identifiers import normalise_text, rows_with_any_byte
from ..paths import MONTH_RE
from .header import SCAN_ROWS, TEMPLATE_SHEETS, HeaderMatch, _has_text, footer_or_blank, match_sheet
from .read import SheetData
from .report import excel_column
from .schema import (
    CODE_TYPES, CompiledContract, Frame, Problems, compile_contract, enum_rewordings, first_generation_ids,
    future_dates, normalise_frame, validate_frame, warnings_for,
)

MAX_ROW_DATE_NOTES = 20  # more record dates outside the month than this: one note for the file, not one per row
CHUNK_ROWS = 100_000  # a sheet of at least two chunks is validated and staged by up to WORKERS threads
WORKERS = min(4, os.cpu_count() or 1)


class FileLevel(Exception):
    """A file-level outcome: `code` is a messages.yaml code, `fields` fill its placeholders."""

    def __init__(self, code: str, **fields):
        super().__init__(code)
        self.code, self.fields = code, fields


@dataclass
class SheetRun:
    match: HeaderMatch
    row_numbers: np.ndarray
    raw: dict[str, pa.ChunkedArray]  # the columns as read (Table.column)
    frame: Frame
    errors: dict[int, list[tuple[str | None, str]]]
    warnings: dict[int, list[tuple[str | None, str]]]
    dates: dict[str, pa.Array]
    domain: np.ndarray
    legacy: dict[str, np.ndarray]  # column -> rows holding a 15-digit citizen ID (schema.first_generation_ids)



class Validator:
    """Validates sheets for one registry; compiled schemas are cached per (kind, domain)."""

    def __init__(self, registry: Registry, *, chunk_rows: int = CHUNK_ROWS, workers: int = WORKERS):
        self.registry = registry
        self.chunk_rows, self.workers = chunk_rows, workers
        self._compiled: dict[tuple[str, str | None], CompiledContract] = {}

    def compiled(self, contract: Contract, domain: str | None) -> CompiledContract:
        key = (contract.kind, domain)
        if key not in self._compiled:
            self._compiled[key] = compile_contract(contract.for_domain(domain) if domain else contract)
        return self._compiled[key]

    def sheets(self, sheets: list[SheetData], contract: Contract, dept, today: dt.date, manifest: dict,
               problems: list[dict]) -> list[SheetRun]:
        """Validate every sheet that matches the contract; `problems` gets the file-level notes (W_UNHEADED_COLUMN)."""
        runs = []
        for sheet in sheets:
            match = match_sheet(sheet, contract)
            if match is None:
                if sheet.table.num_rows and sheet.name not in TEMPLATE_SHEETS and _has_any_text(sheet.table):
                    manifest["ignored_sheets"].append(sheet.name)
                continue
            missing = match.required_missing(contract)
            if missing:
                found = [t for _, t in sorted(match.headers.items()) if t]
                raise FileLevel("F_MISSING_COLUMNS", sheet=sheet.name, columns="、".join(missing),
                                found="、".join(found) or "（无）", closest=_closest(missing, found))
            if match.duplicates:  # two columns for one field: which one is right is the officer's call
                raise FileLevel("F_DUPLICATE_COLUMN", sheet=sheet.name,
                                 columns="、".join(match.headers[i] for i in match.duplicates))
            for i in match.dropped:
                letter = excel_column(i + sheet.col_offset)
                manifest["dropped_columns"].append({"sheet": sheet.name, "column": letter,
                                                    "header": match.headers.get(i) or "（无表头）"})
                if not match.headers.get(i):
                    problems.append(self._note("W_UNHEADED_COLUMN", sheet.name, letter,
                                               int(sheet.row_numbers[match.header_rows[-1]])))
            runs.extend(self._validate_sheet(match, contract, dept, today, manifest))
        if runs:
            self._outside_month(runs, contract, manifest["month"], problems)
        if not runs:
            raise FileLevel("F_NO_HEADER")
        if manifest["rows_read"] == 0:
            raise FileLevel("F_NO_DATA")
        return runs

    def _outside_month(self, runs: list[SheetRun], contract: Contract, month: str, problems: list[dict]) -> None:
        """Record dates outside the submission month: a warning on each row when there are a few
        (W_DATE_OUTSIDE_MONTH); one note for the file when there are many (a history file, or the wrong month
        folder: W_DATES_OUTSIDE_MONTH, with their count and range). The rows are accepted."""
        column = contract.record_date
        if not MONTH_RE.match(month or ""):
            return
        first = dt.date.fromisoformat(month + "-01")
        after = (first + dt.timedelta(days=32)).replace(day=1)
        hits = []
        for run in runs:
            dates = run.dates.get(column)
            if dates is None:
                continue
            outside = pc.or_(pc.less(dates, pa.scalar(first, pa.date32())),
                             pc.greater_equal(dates, pa.scalar(after, pa.date32())))
            mask = np.array(pc.fill_null(outside, False).to_numpy(zero_copy_only=False), dtype=bool)
            # rows whose date already has an error, or a W_DATE_FUTURE note, keep that one only
            mask[[i for i, errs in run.errors.items() if any(c == column for c, _ in errs)]] = False
            mask[[i for i, ws in run.warnings.items() if (column, "W_DATE_FUTURE") in ws]] = False
            rows = np.flatnonzero(mask).tolist()
            hits.append((run, rows, dates))
        total = sum(len(rows) for _, rows, _ in hits)
        if total <= MAX_ROW_DATE_NOTES:
            for run, rows, _ in hits:
                for i in rows:
                    run.warnings.setdefault(i, []).append((column, "W_DATE_OUTSIDE_MONTH"))
            return
        chosen = pa.concat_arrays([d.take(pa.array(rows, pa.int64())) for _, rows, d in hits if rows])
        low, high = pc.min_max(chosen).values()
        header = contract.column(column).header
        zh, hint, _, severity = self.registry.message(
            "W_DATES_OUTSIDE_MONTH", count=total, header=header, month=month, first=str(low), last=str(high))
        problems.append({"sheet": None, "excel_row": None, "excel_column": None, "column": column, "header": header,
                         "raw_value": None, "code": "W_DATES_OUTSIDE_MONTH", "severity": severity, "message": zh,
                         "hint": hint})

    def _note(self, code: str, sheet: str, letter: str, row: int) -> dict:
        zh, hint, _, severity = self.registry.message(code, column_letter=letter, sheet=sheet)
        return {"sheet": sheet, "excel_row": row, "excel_column": letter, "column": None, "header": None,
                "raw_value": None, "code": code, "severity": severity, "message": zh, "hint": hint}

    def _validate_sheet(self, match: HeaderMatch, contract: Contract, dept, today: dt.date,
                        manifest: dict) -> list[SheetRun]:
        """Drop blank and footer rows, then validate the rows in chunks, concurrently when the sheet is large
        (the Arrow, numpy and DuckDB work inside releases the GIL). Each chunk is one run; runs keep sheet order."""
        sheet = match.sheet
        body = sheet.table.slice(match.data_start)
        blank, footer = footer_or_blank(body)
        keep = pc.invert(pc.or_(blank, footer))
        manifest["rows_skipped"] += body.num_rows - pc.sum(pc.cast(keep, pa.int64())).as_py() if body.num_rows else 0
        keep_mask = np.asarray(keep.to_numpy(zero_copy_only=False), bool) if body.num_rows else np.ones(0, bool)
        rows = body if keep_mask.all() else body.filter(keep)
        row_numbers = sheet.row_numbers[match.data_start:][keep_mask]
        table_rows = match.data_start + np.flatnonzero(keep_mask)
        manifest["rows_read"] += rows.num_rows
        chunks = max(1, min(self.workers, rows.num_rows // self.chunk_rows))
        bounds = np.linspace(0, rows.num_rows, chunks + 1).astype(int)

        def chunk(i: int) -> SheetRun:
            start, stop = int(bounds[i]), int(bounds[i + 1])
            return self._validate_rows(match, rows.slice(start, stop - start), row_numbers[start:stop],
                                       table_rows[start:stop], contract, dept, today)

        if chunks == 1:
            return [chunk(0)]
        with ThreadPoolExecutor(max_workers=chunks, thread_name_prefix="bs-credit-validate") as pool:
            return list(pool.map(chunk, range(chunks)))

    def _validate_rows(self, match: HeaderMatch, rows: pa.Table, row_numbers: np.ndarray, table_rows: np.ndarray,
                       contract: Contract, dept, today: dt.date) -> SheetRun:
        names = rows.column_names
        raw = {canonical: rows.column(names[i]) for i, canonical in match.columns.items()}
        domain, domain_cells = self._domains(raw, contract, dept, rows.num_rows)
        # Validated and staged: the domain's name where the cell gives a code or alias; the report shows the cell.
        named = raw if domain_cells is None else {**raw, contract.domain_column: domain_cells}
        errors: dict[int, list] = {}
        warnings: dict[int, list] = {}
        frames, dates, legacy = [], {}, {}
        base = normalise_frame(named, contract)
        domain_checked = bool(dept.domains) and contract.domain_column in match.columns.values()
        for value in dict.fromkeys(domain.tolist()):
            pos = np.flatnonzero(domain == value)
            compiled = self.compiled(contract, value)
            whole = len(pos) == len(domain)
            sub_raw = named if whole else {k: v.take(pa.array(pos)) for k, v in named.items()}
            frame = normalise_frame(sub_raw, compiled.contract) if compiled.contract is not contract else \
                base if whole else base.take(pos)
            found, parsed = validate_frame(compiled, frame, today)
            _collect(errors, found, pos)
            found_legacy = first_generation_ids(frame, compiled.contract)
            for name, mask in found_legacy.items():
                legacy.setdefault(name, np.zeros(len(domain), dtype=bool))[pos] = mask
            _collect(warnings, warnings_for(frame, compiled.contract, found_legacy), pos, skip=errors)
            _collect(warnings, future_dates(parsed, compiled.contract, today), pos, skip=errors)
            _collect(warnings, enum_rewordings(sub_raw, compiled.contract), pos, skip=errors)
            frames.append((pos, frame))
            for k, v in parsed.items():
                dates.setdefault(k, []).append((pos, v))
            if domain_checked and value is not None and value not in dept.domains:  # after the rows' warnings
                for i in pos:
                    errors.setdefault(int(i), []).append((contract.domain_column, "E_DOMAIN_NOT_ALLOWED"))
        _refuse_numeric_identifiers(match, table_rows, raw, contract, errors, warnings)
        frame = _reassemble(frames, rows.num_rows) if frames else base
        return SheetRun(match, row_numbers, raw, frame, errors, warnings, _merge_dates(dates, rows.num_rows), domain,
                        legacy)

    def _domains(self, raw: dict[str, pa.Array], contract: Contract, dept,
                 n: int) -> tuple[np.ndarray, pa.Array | None]:
        """Each row's domain: its 领域 column (a name, code or alias), else the department's default for the kind;
        and that column with every code or alias replaced by the domain's name (None without the column)."""
        default = self.registry.default_domain(dept.code, contract.kind)
        col = contract.domain_column
        if not col or col not in raw:
            return np.full(n, default, dtype=object), None
        values = normalise_text(raw[col])
        distinct = pc.unique(values)
        names = [self.registry.domain_name(v) if v else None for v in distinct.to_pylist()]
        index = pc.fill_null(pc.index_in(values, value_set=distinct), len(distinct))
        row_domain = np.array([name or default for name in names] + [default], dtype=object)
        cells = pa.array([name or v for name, v in zip(names, distinct.to_pylist())] + [None], pa.string())
        return row_domain[index.to_numpy(zero_copy_only=False)], cells.take(index)

    def check_source_unit(self, runs: list[SheetRun], contract: Contract, dept) -> None:
        """A file whose 数据来源单位 is consistently another registered department was put in the wrong folder."""
        if not any("source_unit" in r.frame for r in runs):
            return
        names = pc.unique(pa.chunked_array([r.frame["source_unit"] for r in runs if "source_unit" in r.frame])
                          ).drop_null().to_pylist()
        if not names:
            return
        owners = {getattr(self.registry.department_for_folder(n), "code", None) for n in names}
        if len(owners) == 1 and None not in owners and dept.code not in owners:
            other = self.registry.departments[owners.pop()]
            raise FileLevel("F_WRONG_DEPARTMENT", department=dept.name, kind=f"{contract.title}（数据来源单位为{other.name}）")


def _closest(missing: list[str], found: list[str]) -> str:
    """For each missing header, the found header closest to it (a renamed column), if one is close."""
    notes = []
    for header in missing:
        close = difflib.get_close_matches(header, found, n=1, cutoff=0.4)
        if close:
            notes.append(f"“{header}”最接近的是表中的“{close[0]}”")
    return ("；".join(notes) + "。") if notes else ""


def count_data_rows(sheets: list[SheetData], contract: Contract | None) -> int:
    """The data rows of a refused file: below the header of each sheet matching `contract`; without a contract
    (kind unknown), every filled row of the visible sheets but the first (taken as the header). Blank and footer
    rows are not data."""
    total = 0
    for sheet in sheets:
        if sheet.name in TEMPLATE_SHEETS or not sheet.table.num_rows:
            continue
        match = match_sheet(sheet, contract) if contract is not None else None
        if contract is not None and match is None:
            continue
        body = sheet.table.slice(match.data_start if match else _header_guess(sheet.table) + 1)
        if body.num_rows:
            blank, footer = footer_or_blank(body)
            total += int(pc.sum(pc.cast(pc.invert(pc.or_(blank, footer)), pa.int64())).as_py() or 0)
    return total


def _header_guess(table: pa.Table) -> int:
    """Without a contract, the header of a sheet is taken to be its first row with nearly the most filled cells
    among the first SCAN_ROWS (a title row above it has fewer; a data row may have a few more)."""
    head = table.slice(0, SCAN_ROWS)
    counts = sum(np.concatenate([_has_text(c) for c in col.chunks] or [np.zeros(0, bool)]).astype(int)
                 for col in head.columns)
    return int(np.argmax(counts >= 0.8 * counts.max())) if head.num_rows else -1


_NUMBER_TEXT = r"^[0-9]{16,}\.[0-9]*$|^[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+$"  # 110101199001011008.0, 1.10101E+17


def _refuse_numeric_identifiers(match: HeaderMatch, table_rows: np.ndarray, raw: dict[str, pa.ChunkedArray],
                                contract: Contract, errors: dict[int, list], warnings: dict[int, list]) -> None:
    """An identifier that went through a number lost its digits beyond the 15th: E_EXCEL_NUMBER_CELL, whatever its
    check character says (it may name somebody else), replacing the cell's other notes. Such a value was a numeric
    cell of 16+ digits in the workbook, or is written as a number (a decimal point after 16+ digits, scientific
    notation: a CSV saved from number cells). A citizen ID in scientific notation keeps its own E_ID_SCIENTIFIC."""
    codes = {c.name for c in contract.columns if c.type in CODE_TYPES}
    damaged: list[tuple[int, str]] = []
    for j, rows in match.sheet.numeric_cells.items():
        column = match.columns.get(j)
        if column in codes:
            damaged += [(int(i), column) for i in np.flatnonzero(np.isin(table_rows, rows))]
    for column in codes & set(raw):
        values = raw[column]
        rows = np.flatnonzero(rows_with_any_byte(values, b".eE"))  # what the pattern needs: one pass over the bytes
        if len(rows):
            text = pc.utf8_trim_whitespace(values.take(pa.array(rows)))
            hit = pc.fill_null(pc.match_substring_regex(text, _NUMBER_TEXT), False).to_numpy(zero_copy_only=False)
            damaged += [(int(i), column) for i in rows[hit]]
    for i, column in damaged:
        if (column, "E_ID_SCIENTIFIC") in errors.get(i, []):
            continue
        errors[i] = [e for e in errors.get(i, []) if e[0] != column] + [(column, "E_EXCEL_NUMBER_CELL")]
        if i in warnings:
            warnings[i] = [w for w in warnings[i] if w[0] != column]
            if not warnings[i]:
                del warnings[i]


def _has_any_text(table: pa.Table) -> bool:
    blank, _ = footer_or_blank(table)
    return not pc.all(blank).as_py()


def _collect(into: dict[int, list], found: Problems, pos: np.ndarray, skip: dict[int, list] | None = None) -> None:
    """Add problems at sheet-row positions; `skip`: cells that already have an error get no further notes."""
    for p, column, code in zip(found.position, found.column, found.code):
        row = int(pos[p])
        if skip and any(c == column for c, _ in skip.get(row, ())):
            continue
        into.setdefault(row, []).append((column, code))


def _reassemble(frames: list[tuple[np.ndarray, Frame]], n: int) -> Frame:
    """The domains' frames as one frame in sheet row order (a column some domain lacks is empty on its rows)."""
    if len(frames) == 1:
        return frames[0][1]
    order = pa.array(np.argsort(np.concatenate([pos for pos, _ in frames]), kind="stable"))
    names = dict.fromkeys(name for _, f in frames for name in f.columns)
    return Frame({name: pa.concat_arrays([f[name] if name in f else pa.nulls(len(f), pa.string()) for _, f in frames])
                  .take(order) for name in names}, n)


def _merge_dates(dates: dict[str, list], n: int) -> dict[str, pa.Array]:
    out = {}
    for name, parts in dates.items():
        if len(parts) == 1 and len(parts[0][0]) == n:
            out[name] = parts[0][1]
            continue
        values = np.full(n, None, dtype=object)
        for pos, arr in parts:
            values[pos] = arr.to_pylist()
        out[name] = pa.array(values, type=pa.date32())
    return out

