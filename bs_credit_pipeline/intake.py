"""One submitted file → staged valid rows, every rejected row with its reasons, a manifest and a report.

Invariant for every file: rows_read = rows_loaded + rows_rejected. Blank rows and footer rows (合计, 填报人 ...)
are not data and are counted separately as rows_skipped. Columns no contract names are never read past the header.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import faults, reports, subjects
from .atomic import atomic_write_text
from .contracts import Contract, Registry
from .identifiers import normalise_text
from .headers import TEMPLATE_SHEETS, HeaderMatch, detect_kind, footer_or_blank, match_sheet
from .parsing import parse_numbers, today_in_shanghai
from .paths import MONTH_RE, Home
from .readers import FileRejected, SheetData, read_workbook
from .validation import CompiledContract, Problems, compile_contract, normalise_frame, validate_frame, warnings_for

log = logging.getLogger(__name__)
_BACKGROUND = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bs-credit-intake")
CHUNK_ROWS = 100_000  # a sheet of at least two chunks is validated and staged by up to WORKERS threads
WORKERS = min(4, os.cpu_count() or 1)
KEY_SEP = "\x1f"
PROBLEM_SCHEMA = pa.schema([
    ("sheet", pa.string()), ("excel_row", pa.int64()), ("excel_column", pa.string()), ("column", pa.string()),
    ("header", pa.string()), ("raw_value", pa.string()), ("code", pa.string()), ("severity", pa.string()),
    ("message", pa.string()), ("hint", pa.string()),
])


def excel_column(index: int) -> str:
    """0-based column index → Excel letters (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class IntakeResult:
    manifest: dict
    manifest_path: Path
    staged_path: Path | None
    report_path: Path | None
    problems: pa.Table = field(repr=False)

    @property
    def status(self) -> str:
        return self.manifest["status"]


class _FileLevel(Exception):
    def __init__(self, code: str, **fields):
        super().__init__(code)
        self.code, self.fields = code, fields


@dataclass
class _SheetRun:
    match: HeaderMatch
    row_numbers: np.ndarray
    raw: dict[str, pa.ChunkedArray]  # the columns as read (Table.column)
    frame: pd.DataFrame
    errors: dict[int, list[tuple[str | None, str]]]
    warnings: dict[int, list[tuple[str | None, str]]]
    dates: dict[str, pa.Array]
    domain: np.ndarray


class Intake:
    """Runs intake for files of one registry; compiled schemas are cached per (kind, domain)."""

    def __init__(self, registry: Registry, home: Home, *, chunk_rows: int = CHUNK_ROWS, workers: int = WORKERS):
        self.registry = registry
        self.home = home
        self.chunk_rows, self.workers = chunk_rows, workers
        self._compiled: dict[tuple[str, str | None], CompiledContract] = {}

    def compiled(self, contract: Contract, domain: str | None) -> CompiledContract:
        key = (contract.kind, domain)
        if key not in self._compiled:
            self._compiled[key] = compile_contract(contract.for_domain(domain) if domain else contract)
        return self._compiled[key]

    def run(self, path: Path, *, department: str, month: str, today: dt.date | None = None,
            received_at: dt.datetime | None = None, write_report: bool = True,
            sha256: str | None = None) -> IntakeResult:
        """Intake one file; `sha256`: its content hash when the caller has computed it already."""
        path = Path(path)
        today = today or today_in_shanghai()
        hashing = _BACKGROUND.submit(lambda: sha256 or file_sha256(path))  # overlaps with reading the file
        dept = self.registry.department_for_folder(department)
        dept_code = department_key(self.registry, department)
        manifest = {
            "file_name": path.name, "sha256": None, "department": dept_code, "month": month, "kind": None,
            "domain": None, "format": None, "status": "rejected", "rows_read": 0, "rows_loaded": 0,
            "rows_rejected": 0, "rows_skipped": 0, "hidden_sheets": [], "ignored_sheets": [], "dropped_columns": [],
            "file_error": None, "error_counts": {}, "warning_counts": {}, "report_path": None,
            "received_at": (received_at or dt.datetime.now(dt.timezone.utc)).isoformat(),
            "processed_at": None,
        }
        staging = self.home.partition_staging(dept_code, month)
        staging.mkdir(parents=True, exist_ok=True)
        problems: list[dict] = []
        rejected: list[pa.Table] = []
        report_sheets: list[dict] = []
        staged_path = None
        kind_title = None
        try:
            if dept is None:
                raise _FileLevel("F_UNKNOWN_DEPARTMENT", department=department)
            if not MONTH_RE.match(month):
                raise _FileLevel("F_BAD_MONTH_FOLDER", month=month)
            try:
                workbook = read_workbook(path)
            except FileRejected as exc:
                log.warning("file %s rejected by reader: %s (%s)", path.name, exc.code, exc.detail)
                raise _FileLevel(exc.code) from exc
            manifest["sha256"] = hashing.result()
            manifest["format"] = workbook.format
            manifest["hidden_sheets"] = list(workbook.hidden_sheets)
            detection = detect_kind(workbook, path.name, self.registry.contracts)
            if detection.contract is None:
                raise _FileLevel("F_UNKNOWN_KIND", known_kinds=self._known_kinds())
            contract = detection.contract
            kind_title = contract.title
            manifest["kind"] = contract.kind
            if contract.kind not in dept.kinds:
                raise _FileLevel("F_WRONG_DEPARTMENT", department=dept.name, kind=contract.title)
            runs = self._sheets(workbook.sheets, contract, dept, today, manifest)
            self._check_source_unit(runs, contract, dept)
            valid = self._assemble(runs, contract, manifest, problems, report_sheets, rejected)
            if valid is not None and valid.num_rows:
                staged_path = staging / f"{manifest['sha256']}.parquet"
                pq.write_table(valid, staged_path)
            manifest["status"] = ("accepted" if manifest["rows_rejected"] == 0 and manifest["rows_read"] > 0
                                  else "partial" if manifest["rows_loaded"] > 0 else "rejected")
        except _FileLevel as exc:
            fields = {"file_name": path.name, "department": department, "month": month,
                      "kind": kind_title or "", **exc.fields}
            zh, hint, en, _ = self.registry.message(exc.code, **fields)
            manifest["file_error"] = {"code": exc.code, "message": zh, "hint": hint}
            manifest["status"] = "rejected"
            manifest["rows_loaded"] = 0
            manifest["rows_rejected"] = manifest["rows_read"]
            log.warning("file %s rejected: %s", path.name, en)
        manifest["processed_at"] = dt.datetime.now(dt.timezone.utc).isoformat()
        sha = manifest["sha256"] = hashing.result()
        table = pa.Table.from_pylist(problems, schema=PROBLEM_SCHEMA)
        pq.write_table(table, staging / f"{sha}.rejections.parquet")
        if rejected:  # the rejected rows themselves, as read (contract columns only), with their error codes
            pq.write_table(pa.concat_tables(rejected, promote_options="permissive"), staging / f"{sha}.rejected.parquet")
        report_path = None
        if write_report:
            report_path = self._write_report(path, dept, month, kind_title, manifest, table, report_sheets)
            manifest["report_path"] = str(report_path)
        manifest_path = staging / f"{sha}.manifest.json"
        faults.point("intake.before_manifest")
        atomic_write_text(manifest_path, json.dumps(manifest, ensure_ascii=False, indent=2))
        assert manifest["rows_read"] == manifest["rows_loaded"] + manifest["rows_rejected"], manifest
        log.info("intake %s/%s %s: %s read=%d loaded=%d rejected=%d", dept_code, month, path.name,
                 manifest["status"], manifest["rows_read"], manifest["rows_loaded"], manifest["rows_rejected"])
        return IntakeResult(manifest, manifest_path, staged_path, report_path, table)

    def _known_kinds(self) -> str:
        return "、".join(f"{c.title}（{k}）" for k, c in self.registry.contracts.items())

    def _sheets(self, sheets: list[SheetData], contract: Contract, dept, today: dt.date, manifest: dict) -> list[_SheetRun]:
        runs = []
        for sheet in sheets:
            match = match_sheet(sheet, contract)
            if match is None:
                if sheet.table.num_rows and sheet.name not in TEMPLATE_SHEETS and _has_any_text(sheet.table):
                    manifest["ignored_sheets"].append(sheet.name)
                continue
            missing = match.required_missing(contract)
            if missing:
                raise _FileLevel("F_MISSING_COLUMNS", sheet=sheet.name, columns="、".join(missing))
            if match.duplicates:  # two columns for one field: which one is right is the officer's call
                raise _FileLevel("F_DUPLICATE_COLUMN", sheet=sheet.name,
                                 columns="、".join(match.headers[i] for i in match.duplicates))
            for i in match.dropped:
                manifest["dropped_columns"].append({"sheet": sheet.name, "column": excel_column(i + sheet.col_offset),
                                                    "header": match.headers.get(i) or "（无表头）"})
            runs.extend(self._validate_sheet(match, contract, dept, today, manifest))
        if not runs:
            raise _FileLevel("F_NO_HEADER")
        if manifest["rows_read"] == 0:
            raise _FileLevel("F_NO_DATA")
        return runs

    def _validate_sheet(self, match: HeaderMatch, contract: Contract, dept, today: dt.date,
                        manifest: dict) -> list[_SheetRun]:
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
        manifest["rows_read"] += rows.num_rows
        chunks = max(1, min(self.workers, rows.num_rows // self.chunk_rows))
        bounds = np.linspace(0, rows.num_rows, chunks + 1).astype(int)

        def chunk(i: int) -> _SheetRun:
            start, stop = int(bounds[i]), int(bounds[i + 1])
            return self._validate_rows(match, rows.slice(start, stop - start), row_numbers[start:stop],
                                       contract, dept, today)

        if chunks == 1:
            return [chunk(0)]
        with ThreadPoolExecutor(max_workers=chunks, thread_name_prefix="bs-credit-validate") as pool:
            return list(pool.map(chunk, range(chunks)))

    def _validate_rows(self, match: HeaderMatch, rows: pa.Table, row_numbers: np.ndarray, contract: Contract,
                       dept, today: dt.date) -> _SheetRun:
        names = rows.column_names
        raw = {canonical: rows.column(names[i]) for i, canonical in match.columns.items()}
        domain, domain_cells = self._domains(raw, contract, dept, rows.num_rows)
        # Validated and staged: the domain's name where the cell gives a code or alias; the report shows the cell.
        named = raw if domain_cells is None else {**raw, contract.domain_column: domain_cells}
        errors: dict[int, list] = {}
        warnings: dict[int, list] = {}
        frames, dates = [], {}
        base = normalise_frame(named, contract)
        for value in pd.unique(domain):
            pos = np.flatnonzero(domain == value) if value is not None else np.flatnonzero(pd.isna(domain))
            compiled = self.compiled(contract, value)
            sub_raw = {k: v.take(pa.array(pos)) for k, v in named.items()} if len(pos) != len(domain) else named
            frame = normalise_frame(sub_raw, compiled.contract) if compiled.contract is not contract else \
                base.iloc[pos].reset_index(drop=True)
            found, parsed = validate_frame(compiled, frame, today)
            _collect(errors, found, pos)
            _collect(warnings, warnings_for(frame, compiled.contract), pos, skip=errors)
            frames.append((pos, frame))
            for k, v in parsed.items():
                dates.setdefault(k, []).append((pos, v))
        if dept.domains and contract.domain_column and contract.domain_column in match.columns.values():
            outside = pd.notna(domain) & ~pd.Series(domain).isin(list(dept.domains)).to_numpy()
            for i in np.flatnonzero(outside):
                errors.setdefault(int(i), []).append((contract.domain_column, "E_DOMAIN_NOT_ALLOWED"))
        frame = _reassemble(frames, rows.num_rows) if frames else base
        return _SheetRun(match, row_numbers, raw, frame, errors, warnings, _merge_dates(dates, rows.num_rows), domain)

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

    def _check_source_unit(self, runs: list[_SheetRun], contract: Contract, dept) -> None:
        """A file whose 数据来源单位 is consistently another registered department was put in the wrong folder."""
        if not any("source_unit" in r.frame for r in runs):
            return
        names = pd.concat([r.frame["source_unit"] for r in runs if "source_unit" in r.frame]).dropna().unique()
        if len(names) == 0:
            return
        owners = {getattr(self.registry.department_for_folder(n), "code", None) for n in names}
        if len(owners) == 1 and None not in owners and dept.code not in owners:
            other = self.registry.departments[owners.pop()]
            raise _FileLevel("F_WRONG_DEPARTMENT", department=dept.name, kind=f"{contract.title}（数据来源单位为{other.name}）")

    def _assemble(self, runs: list[_SheetRun], contract: Contract, manifest: dict, problems: list[dict],
                  report_sheets: list[dict], rejected: list[pa.Table]) -> pa.Table | None:
        staged: list[tuple[_SheetRun, dict, np.ndarray]] = []
        seen = pa.array([], pa.string())  # record ids accepted from earlier runs of the file
        earlier: list[tuple[_SheetRun, pa.Array, np.ndarray]] = []
        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(runs))),
                                thread_name_prefix="bs-credit-stage") as pool:
            all_keys = list(pool.map(lambda run: _keys(run, contract), runs))
            for run, keys in zip(runs, all_keys):
                n = len(run.frame)
                bad = np.zeros(n, dtype=bool)
                bad[list(run.errors)] = True
                rids = keys["_record_id"]
                # Duplicates of a natural key within one file: the first accepted occurrence stays, later ones go.
                dup = _repeats(rids, ~bad, seen)
                for i in np.flatnonzero(dup):
                    rid = rids[int(i)].as_py()
                    first_sheet, first_row = _first_occurrence(rid, earlier + [(run, rids, ~bad & ~dup)])
                    run.errors.setdefault(int(i), []).append((None, f"E_DUPLICATE_KEY|{first_sheet}|{first_row}"))
                bad |= dup
                accepted = np.flatnonzero(~bad)
                seen = pa.concat_arrays([seen, rids.take(pa.array(accepted))])
                earlier.append((run, rids, ~bad))
                self._problems(run, contract, problems)
                manifest["rows_rejected"] += int(bad.sum())
                manifest["rows_loaded"] += len(accepted)
                if len(accepted):
                    staged.append((run, keys, accepted))
                if bad.any():
                    rejected.append(_rejected_rows(run, np.flatnonzero(bad)))
            tables = list(pool.map(lambda job: _typed(job[0], contract, job[1], job[2], manifest), staged))
        for sheet_runs in _by_sheet(runs):
            report_sheets.append(self._report_sheet(sheet_runs))
        for p in problems:
            bucket = "error_counts" if p["severity"] == "error" else "warning_counts"
            manifest[bucket][p["code"]] = manifest[bucket].get(p["code"], 0) + 1
        domains = sorted({d for r in runs for d in pd.unique(r.domain) if d is not None})
        manifest["domain"] = "、".join(domains) or None
        return pa.concat_tables(tables, promote_options="permissive") if tables else None

    def _problems(self, run: _SheetRun, contract: Contract, out: list[dict]) -> None:
        sheet = run.match.sheet
        by_name = {v: k for k, v in run.match.columns.items()}
        cache: dict[tuple, tuple] = {}
        for severity, table in (("error", run.errors), ("warning", run.warnings)):
            for i in sorted(table):
                for column, code in table[i]:
                    fields = {}
                    if code.startswith("E_DUPLICATE_KEY|"):
                        code, first_sheet, first_row = code.split("|")
                        fields = {"first_sheet": first_sheet, "first_row": first_row}
                    idx = by_name.get(column)
                    header = run.match.headers.get(idx) if idx is not None else None
                    raw = run.raw[column][i].as_py() if column in run.raw else None
                    spec = contract.column(column) if column else None
                    fields.update(_detail_fields(code, spec, run, i, by_name, contract))
                    key = (code, column, raw, tuple(fields.items()))
                    if key not in cache:
                        cache[key] = self.registry.message(
                            code, header=header or (spec.header if spec else ""), value=raw or "",
                            expected=_expected(spec), **fields)
                    zh, hint, _, _ = cache[key]
                    out.append({
                        "sheet": sheet.name, "excel_row": int(run.row_numbers[i]),
                        "excel_column": excel_column(idx + sheet.col_offset) if idx is not None else None,
                        "column": column, "header": header, "raw_value": raw, "code": code,
                        "severity": severity, "message": zh, "hint": hint,
                    })

    def _report_sheet(self, runs: list[_SheetRun]) -> dict:
        """One sheet's rows as read (all its runs), kept columns only, converted to Python lazily by the writer."""
        match = runs[0].match
        sheet = match.sheet
        cols = sorted(match.columns)
        table = pa.table({str(j): pa.chunked_array([c for r in runs for c in r.raw[match.columns[i]].chunks],
                                                   pa.string())
                          for j, i in enumerate(cols)})
        row_numbers = np.concatenate([r.row_numbers for r in runs])
        return {"name": sheet.name, "headers": [match.headers.get(i, "") for i in cols],
                "excel_columns": [excel_column(i + sheet.col_offset) for i in cols],
                "rows": reports.ArrowRows(table, row_numbers), "row_count": table.num_rows}

    def _write_report(self, path: Path, dept, month: str, kind_title: str | None, manifest: dict,
                      problems: pa.Table, sheets: list[dict]) -> Path:
        out_dir = self.home.partition_outbox(manifest["department"], month)
        out_dir.mkdir(parents=True, exist_ok=True)
        out = out_dir / f"{path.stem}_校验报告_{manifest['sha256'][:8]}.xlsx"
        titles = {code: self.registry.message_title(code)
                  for code in set(manifest["error_counts"]) | set(manifest["warning_counts"])}
        summary = {k: manifest[k] for k in ("rows_read", "rows_loaded", "rows_rejected", "rows_skipped", "status",
                                             "file_error", "error_counts", "hidden_sheets")}
        summary.update({
            "code_titles": titles, "kind_title": kind_title or "未识别",
            "dropped_columns": [f"{d['sheet']}!{d['column']} {d['header']}" for d in manifest["dropped_columns"]],
            "processed_at": manifest["processed_at"], "warning_counts": manifest["warning_counts"],
            "ignored_sheets": manifest["ignored_sheets"],
        })
        return reports.write_report(
            out, file_name=path.name, department_name=dept.name if dept else manifest["department"], month=month,
            kind_title=kind_title or "未识别", sheets=sheets, problems=problems, summary=summary)


def _first_occurrence(record_id: str, runs: list[tuple[_SheetRun, pa.Array, np.ndarray]]) -> tuple[str, int]:
    """Sheet and Excel row of the accepted row a duplicate repeats."""
    for run, rids, accepted in runs:
        hits = np.flatnonzero(accepted & np.asarray(pc.equal(rids, record_id).to_numpy(zero_copy_only=False), bool))
        if len(hits):
            return run.match.sheet.name, int(run.row_numbers[hits[0]])
    raise LookupError(record_id)


def _detail_fields(code: str, spec, run: _SheetRun, i: int, by_name: dict[str, int], contract: Contract) -> dict:
    """What a message needs besides the cell: the condition behind E_REQUIRED_IF, the length behind E_TOO_LONG."""
    if code == "E_REQUIRED_IF" and spec is not None and spec.required_if:
        when = spec.required_if["column"]
        idx = by_name.get(when)
        value = run.frame[when].iloc[i] if when in run.frame else None
        header = run.match.headers.get(idx) if idx is not None else None
        return {"when_header": header or contract.column(when).header,
                "when_value": "" if pd.isna(value) else str(value)}
    if code == "E_TOO_LONG" and spec is not None and spec.name in run.frame:
        return {"length": len(str(run.frame[spec.name].iloc[i]))}
    return {}


def _by_sheet(runs: list[_SheetRun]) -> list[list[_SheetRun]]:
    """Consecutive runs of the same sheet (a large sheet is validated in several chunks)."""
    groups: list[list[_SheetRun]] = []
    for run in runs:
        if groups and groups[-1][0].match.sheet is run.match.sheet:
            groups[-1].append(run)
        else:
            groups.append([run])
    return groups


def _has_any_text(table: pa.Table) -> bool:
    blank, _ = footer_or_blank(table)
    return not pc.all(blank).as_py()


def department_key(registry: Registry, folder_name: str) -> str:
    """Staging/outbox folder of a department: its registry code, else the inbox folder name made path-safe."""
    dept = registry.department_for_folder(folder_name)
    if dept:
        return dept.code
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in folder_name) or "unknown"


def _expected(spec) -> str:
    if spec is None:
        return ""
    if spec.values:
        return "、".join(spec.values[:20]) + ("……" if len(spec.values) > 20 else "")
    return {"date": "日期，如 2026-10-03", "decimal": "非负数字", "integer": "非负整数",
            "uscc": "18位统一社会信用代码", "citizen_id": "18位公民身份号码", "org_code": "9位组织机构代码"}.get(
        spec.type, f"不超过{spec.max_length}个字符" if spec.max_length else "")


def _collect(into: dict[int, list], found: Problems, pos: np.ndarray, skip: dict[int, list] | None = None) -> None:
    """Add problems at sheet-row positions; `skip`: cells that already have an error get no further notes."""
    for p, column, code in zip(found.position, found.column, found.code):
        row = int(pos[p])
        if skip and any(c == column for c, _ in skip.get(row, ())):
            continue
        into.setdefault(row, []).append((column, code))


def _reassemble(frames: list[tuple[np.ndarray, pd.DataFrame]], n: int) -> pd.DataFrame:
    if len(frames) == 1:
        return frames[0][1]
    parts = [f.set_axis(pos, axis=0) for pos, f in frames]
    return pd.concat(parts).sort_index().reset_index(drop=True).reindex(range(n))


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


def _keys(run: _SheetRun, contract: Contract) -> dict[str, pa.Array]:
    """Subject columns, natural key and record id for every row (rejected rows included: they are not staged)."""
    keys = subjects.resolve(run.frame, contract)
    n = len(run.frame)
    parts = [pa.repeat(pa.scalar(contract.kind), n), keys["_subject_id"]]
    for name in contract.natural_key:
        if name in run.dates:
            parts.append(pc.cast(run.dates[name], pa.string()))
        elif name in run.frame:
            parts.append(pa.array(run.frame[name], pa.string(), from_pandas=True))
        else:
            parts.append(pa.nulls(n, pa.string()))
    keys["_natural_key"] = pc.binary_join_element_wise(*parts, KEY_SEP, null_handling="replace", null_replacement="")
    keys["_record_id"] = _digest(pa.table({"k": keys["_natural_key"]}), length=32)
    return keys


def _repeats(rids: pa.Array, accepted: np.ndarray, seen: pa.Array) -> np.ndarray:
    """Accepted rows whose record id an earlier accepted row (this sheet or an earlier one) already has."""
    positions = np.flatnonzero(accepted)
    candidates = rids.take(pa.array(positions))
    if len(pc.unique(candidates)) == len(candidates) and not pc.any(pc.is_in(candidates, value_set=seen)).as_py():
        return np.zeros(len(rids), dtype=bool)  # the usual case: nothing repeats
    table = pa.table({"rid": candidates, "pos": pa.array(positions)})
    first = table.group_by("rid", use_threads=False).aggregate([("pos", "min")])
    first_pos = pc.index_in(table["rid"], value_set=first["rid"])
    is_first = pc.equal(table["pos"], first["pos_min"].take(first_pos))
    repeat = pc.or_(pc.invert(is_first), pc.is_in(table["rid"], value_set=seen))
    out = np.zeros(len(rids), dtype=bool)
    out[positions] = np.asarray(repeat.to_numpy(zero_copy_only=False), dtype=bool)
    return out


def _typed(run: _SheetRun, contract: Contract, keys: dict[str, pa.Array], rows: np.ndarray, manifest: dict) -> pa.Table:
    """The staged form of the valid rows: typed contract columns plus provenance and keys."""
    n = len(rows)
    everything = n == len(run.frame)  # the usual case: no row rejected, nothing to select
    take = pa.array(rows)

    def pick(values: pa.Array) -> pa.Array:
        return values if everything else values.take(take)

    cols: dict[str, pa.Array] = {}
    for spec in contract.columns:
        if spec.name in run.dates:
            cols[spec.name] = pick(run.dates[spec.name])
        elif spec.name not in run.frame:
            cols[spec.name] = pa.nulls(n, _arrow_type(spec.type))
        else:
            text = pick(pa.array(run.frame[spec.name], pa.string(), from_pandas=True))
            if spec.type == "decimal":
                cols[spec.name] = parse_numbers(text)
            elif spec.type == "integer":
                cols[spec.name] = pc.cast(parse_numbers(text), pa.int64())
            else:
                cols[spec.name] = text
    table = pa.table(cols)
    record_date = run.dates.get(contract.record_date)
    extra = {
        "_kind": pa.repeat(pa.scalar(contract.kind), n),
        "_domain": pick(pa.array(run.domain, pa.string())),
        "_department": pa.repeat(pa.scalar(manifest["department"]), n),
        "_month": pa.repeat(pa.scalar(manifest["month"]), n),
        "_file_sha256": pa.repeat(pa.scalar(manifest["sha256"]), n),
        "_file_name": pa.repeat(pa.scalar(manifest["file_name"]), n),
        "_sheet": pa.repeat(pa.scalar(run.match.sheet.name), n),
        "_excel_row": pa.array(run.row_numbers[rows], pa.int32()),
        **{k: pick(keys[k]) for k in ("_subject_type", "_subject_id", "_subject_name", "_org_code")},
        "_record_date": pick(record_date) if record_date is not None else pa.nulls(n, pa.date32()),
        "_natural_key": pick(keys["_natural_key"]),
        "_record_id": pick(keys["_record_id"]),
        "_content_hash": _digest(table, "md5"),  # change detection only: md5 is twice as fast here
    }
    for k, v in extra.items():
        table = table.append_column(k, v)
    return table


def _rejected_rows(run: _SheetRun, rows: np.ndarray) -> pa.Table:
    """Rejected rows as read (contract columns only: nothing the contract does not name is kept) + their errors."""
    take = pa.array(rows)
    table = pa.table({name: values.take(take) for name, values in run.raw.items()})
    errors = [json.dumps(sorted({code.split("|")[0] for _, code in run.errors[int(i)]})) for i in rows]
    return (table.append_column("_sheet", pa.repeat(pa.scalar(run.match.sheet.name), len(rows)))
            .append_column("_excel_row", pa.array(run.row_numbers[rows], pa.int32()))
            .append_column("_errors", pa.array(errors, pa.string())))


def _digest(table: pa.Table, function: str = "sha256", length: int = 64) -> pa.Array:
    """Hex digest of each row's values joined by U+001F (null as ''), computed by DuckDB in vectors."""
    joined = ", ".join(f'coalesce(CAST("{c}" AS VARCHAR), \'\')' for c in table.column_names)
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("hash_input", table)
        out = con.sql(f"SELECT substr({function}(concat_ws(chr(31), {joined})), 1, {int(length)}) AS h "
                      "FROM hash_input").to_arrow_table().column("h")
    finally:
        con.close()
    return out.combine_chunks()


def _arrow_type(kind: str) -> pa.DataType:
    return {"date": pa.date32(), "decimal": pa.float64(), "integer": pa.int64()}.get(kind, pa.string())
