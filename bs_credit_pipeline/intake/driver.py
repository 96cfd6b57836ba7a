"""Intake one submitted file: read → header → validate → subjects and stage → report.

Invariant for every file: rows_read = rows_loaded + rows_rejected. Blank rows and footer rows (合计, 填报人 ...)
are not data and are counted separately as rows_skipped. Columns no contract names are never read past the header.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
from .. import faults
from ..atomic import atomic_write_text
from ..contracts import Registry
from ..parsing import today_in_shanghai
from ..paths import MONTH_RE, Home
from . import problems as problem_rows
from . import report, stage
from .header import detect_kind
from .read import FileRejected, read_workbook
from .validate import CHUNK_ROWS, WORKERS, FileLevel, Validator, count_data_rows

log = logging.getLogger(__name__)
_BACKGROUND = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bs-credit-intake")


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


class Intake:
    """Runs intake for files of one registry."""

    def __init__(self, registry: Registry, home: Home, *, chunk_rows: int = CHUNK_ROWS, workers: int = WORKERS):
        self.registry = registry
        self.home = home
        self.validator = Validator(registry, chunk_rows=chunk_rows, workers=workers)

    def run(self, path: Path, *, department: str, month: str, today: dt.date | None = None,
            received_at: dt.datetime | None = None, write_report: bool = True,
            sha256: str | None = None, out_dir: Path | None = None, stage_rows: bool = True) -> IntakeResult:
        """Intake one file; `sha256`: its content hash when the caller has computed it already; `out_dir`: where
        the report goes (default: the partition's outbox folder); without `stage_rows` (a dry run) the same
        outcome, report and manifest, but no staged, rejected or rejections Parquet."""
        path = Path(path)
        today = today or today_in_shanghai()
        hashing = _BACKGROUND.submit(lambda: sha256 or _file_or_name_sha256(path))  # overlaps with reading
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
        # A month that is no YYYY-MM (a folder named ../..) never becomes a path: its rejection goes to "invalid-month".
        staging = self.home.partition_staging(dept_code, month if MONTH_RE.match(month) else "invalid-month")
        staging.mkdir(parents=True, exist_ok=True)
        problems: list[dict] = []
        rejected: list[pa.Table] = []
        reported = []  # the runs of a file that got as far as staging: the report shows their rows
        staged_path = None
        kind_title = None
        workbook = contract = None
        try:
            if dept is None:
                raise FileLevel("F_UNKNOWN_DEPARTMENT", department=department)
            if not MONTH_RE.match(month):
                raise FileLevel("F_BAD_MONTH_FOLDER", month=month)
            try:
                workbook = read_workbook(path)
            except FileRejected as exc:
                log.warning("file %s rejected by reader: %s (%s)", path.name, exc.code, exc.detail)
                raise FileLevel(exc.code, **exc.fields) from exc
            manifest["sha256"] = hashing.result()
            manifest["format"] = workbook.format
            manifest["hidden_sheets"] = list(workbook.hidden_sheets)
            detection = detect_kind(workbook, path.name, self.registry.contracts)
            if detection.contract is None:
                raise FileLevel("F_UNKNOWN_KIND", known_kinds=self._known_kinds())
            contract = detection.contract
            kind_title = contract.title
            manifest["kind"] = contract.kind
            if contract.kind not in dept.kinds:
                raise FileLevel("F_WRONG_DEPARTMENT", department=dept.name, kind=contract.title)
            runs = self.validator.sheets(workbook.sheets, contract, dept, today, manifest, problems)
            self.validator.check_source_unit(runs, contract, dept)
            described = len(problems)
            valid, rejected = stage.assemble(runs, contract, manifest, self.validator.workers,
                                             lambda run: problem_rows.describe(self.registry, run, contract, problems, month),
                                             staged=stage_rows)
            _errors_first(problems, described)
            reported = runs
            _count(problems, manifest)
            domains = sorted({d for r in runs for d in set(r.domain.tolist()) if d is not None})
            manifest["domain"] = "、".join(domains) or None
            if valid is not None and valid.num_rows:
                staged_path = staging / f"{manifest['sha256']}.parquet"
                stage.write_staged(valid, staged_path)
                previous = _same_records(staging, manifest["sha256"], valid)
                if previous:
                    zh, hint, _, severity = self.registry.message("W_SAME_AS_PREVIOUS", previous=previous)
                    problems.append({"sheet": None, "excel_row": None, "excel_column": None, "column": None,
                                     "header": None, "raw_value": None, "code": "W_SAME_AS_PREVIOUS",
                                     "severity": severity, "message": zh, "hint": hint})
                    _count(problems[-1:], manifest)
            manifest["status"] = ("accepted" if manifest["rows_rejected"] == 0 and manifest["rows_read"] > 0
                                  else "partial" if manifest["rows_loaded"] > 0 else "rejected")
        except Exception as exc:  # noqa: BLE001 - any failure is this file's outcome, never the partition's
            if not isinstance(exc, FileLevel):
                ref = uuid.uuid4().hex[:12]
                log.error("internal error %s in intake of %s: %s", ref, path.name, _where(exc))
                exc = FileLevel("F_INTERNAL", ref=ref)
            fields = {"file_name": path.name, "department": department, "month": month,
                      "kind": kind_title or "", **exc.fields}
            zh, hint, en, _ = self.registry.message(exc.code, **fields)
            manifest["file_error"] = {"code": exc.code, "message": zh, "hint": hint}
            manifest["status"] = "rejected"
            manifest["rows_loaded"] = 0
            if workbook is not None:  # the rows the department sent, all refused with the file
                manifest["rows_read"] = max(manifest["rows_read"], _safely(count_data_rows, workbook.sheets, contract))
            manifest["rows_rejected"] = manifest["rows_read"]
            reported, rejected = [], []
            log.warning("file %s rejected: %s", path.name, en)
        manifest["processed_at"] = dt.datetime.now(dt.timezone.utc).isoformat()
        sha = manifest["sha256"] = hashing.result()
        table = pa.Table.from_pylist(problems, schema=problem_rows.PROBLEM_SCHEMA)
        if stage_rows:
            import pyarrow.parquet as pq

            pq.write_table(table, staging / f"{sha}.rejections.parquet")
            if rejected:  # the rejected rows themselves, as read (contract columns only), with their error codes
                pq.write_table(pa.concat_tables(rejected, promote_options="permissive"),
                               staging / f"{sha}.rejected.parquet")
        report_path = None
        if write_report:
            try:
                report_path = report.write_file_report(
                    self.registry, out_dir or _outbox(self.home, manifest["department"], month), path, dept,
                    month, kind_title, manifest, table, [report.sheet_view(r) for r in report.by_sheet(reported)])
                manifest["report_path"] = str(report_path)
            except Exception as exc:  # noqa: BLE001 - the outcome stands without its report
                log.error("internal error %s writing the report of %s: %s", uuid.uuid4().hex[:12], path.name,
                          _where(exc))
        manifest_path = staging / f"{sha}.manifest.json"
        faults.point("intake.before_manifest")
        atomic_write_text(manifest_path, json.dumps(manifest, ensure_ascii=False, indent=2))
        assert manifest["rows_read"] == manifest["rows_loaded"] + manifest["rows_rejected"], manifest
        log.info("intake %s/%s %s: %s read=%d loaded=%d rejected=%d", dept_code, month, path.name,
                 manifest["status"], manifest["rows_read"], manifest["rows_loaded"], manifest["rows_rejected"])
        return IntakeResult(manifest, manifest_path, staged_path, report_path, table)

    def _known_kinds(self) -> str:
        return "、".join(f"{c.title}（{k}）" for k, c in self.registry.contracts.items())


def department_key(registry: Registry, folder_name: str) -> str:
    """Staging/outbox folder of a department: its registry code, else the inbox folder name made path-safe."""
    dept = registry.department_for_folder(folder_name)
    if dept:
        return dept.code
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in folder_name) or "unknown"


def _outbox(home: Home, department: str, month: str) -> Path:
    """The partition's outbox folder; a month that is no YYYY-MM never becomes part of a path."""
    return home.partition_outbox(department, month if MONTH_RE.match(month) else "invalid-month")


def _same_records(staging: Path, sha: str, staged: pa.Table) -> str | None:
    """The name of an earlier staged file of the partition holding exactly these records (same record ids, same
    contents): a resubmission that changes nothing."""
    import pyarrow.parquet as pq

    def pairs(table: pa.Table) -> pa.Table:  # record ids are unique within a staged file: sorting them suffices
        pairs = table.select(["_record_id", "_content_hash"])
        return pairs.sort_by([("_record_id", "ascending")]).combine_chunks()

    mine = None
    for other in sorted(staging.glob("*.manifest.json")):
        other_sha = other.name.removesuffix(".manifest.json")
        rows = staging / f"{other_sha}.parquet"
        if other_sha == sha or not rows.exists() or pq.read_metadata(rows).num_rows != staged.num_rows:
            continue
        theirs = pq.read_table(rows, columns=["_record_id", "_content_hash", "_file_name"])
        mine = pairs(staged) if mine is None else mine
        if pairs(theirs).equals(mine):
            return theirs.column("_file_name")[0].as_py()
    return None


def _file_or_name_sha256(path: Path) -> str:
    """The file's sha256; for a path that is no readable file, the sha256 of its name (the manifest's key)."""
    try:
        return file_sha256(path)
    except OSError:
        return hashlib.sha256(str(path).encode("utf-8")).hexdigest()


def _where(exc: BaseException) -> str:
    """An exception for the log: its type and where it was raised, never its text (it may quote a cell)."""
    frames = traceback.extract_tb(exc.__traceback__)
    at = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames[-3:]))
    return f"{type(exc).__name__} at {at}"


def _safely(function, *args) -> int:
    try:
        return function(*args)
    except Exception as exc:  # noqa: BLE001 - counting is best effort on a file already refused
        log.error("could not count the rows of a refused file: %s", _where(exc))
        return 0


def _errors_first(problems: list[dict], start: int) -> None:
    """Row problems from `start` on in one order however a sheet was chunked: per sheet, errors then warnings."""
    sheets = {p["sheet"]: None for p in problems[start:]}
    rank = {name: i for i, name in enumerate(sheets)}
    problems[start:] = sorted(problems[start:], key=lambda p: (rank[p["sheet"]], p["severity"] != "error"))


def _count(problems: list[dict], manifest: dict) -> None:
    for p in problems:
        bucket = "error_counts" if p["severity"] == "error" else "warning_counts"
        manifest[bucket][p["code"]] = manifest[bucket].get(p["code"], 0) + 1
