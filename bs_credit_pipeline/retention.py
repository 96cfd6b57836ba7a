"""Retention of the raw copies of submissions (PIPL art. 19: kept no longer than the purpose needs).

`purge(home, before)` removes, for every file processed before `before` and already recorded in the warehouse:
the original in the inbox, its staged Parquet (valid rows, rejected rows as read, problems), the annotated
report in the outbox and the partition's repair feedback (信用修复处理结果.csv, rewritten by the next nightly build
from the submissions not purged). Its manifest stays, marked `purged_at`, so the file counts as submitted and its records
stay in the warehouse as loaded, frozen: a later load of the month neither withdraws nor reloads them
(warehouse/load.py). The warehouse's history is never purged.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .atomic import atomic_write_text
from .lists.feedback import FILE_NAME as FEEDBACK_FILE
from .parsing import SHANGHAI
from .paths import Home, inbox_files
from .warehouse import schema
from .warehouse.load import submission_id
from .warehouse.staged import StagedFile

RETENTION_VAR = "BS_CREDIT_RETENTION_DAYS"


class RetentionNotSet(ValueError):
    """Neither --before nor BS_CREDIT_RETENTION_DAYS says what to purge."""


@dataclass(frozen=True)
class PurgeResult:
    before: dt.date
    files: int            # submissions whose raw copies were removed
    removed: int          # files deleted (originals, staged Parquet, reports)
    bytes_freed: int
    kept_unloaded: int    # old enough, but not (yet) in the warehouse: kept


def cutoff(before: dt.date | None, today: dt.date) -> dt.date:
    """The purge date: --before, else today minus BS_CREDIT_RETENTION_DAYS."""
    if before is not None:
        return before
    days = os.environ.get(RETENTION_VAR, "").strip()
    if not days.isdigit() or int(days) < 1:
        raise RetentionNotSet(f"set --before YYYY-MM-DD or {RETENTION_VAR} to a number of days (at least 1)")
    return today - dt.timedelta(days=int(days))


def purge(home: Home, before: dt.date) -> PurgeResult:
    """Remove the raw copies of every loaded submission processed (Asia/Shanghai date) before `before`."""
    from .contracts import Registry

    registry = Registry.load()
    loaded = _recorded_submissions(home)
    files = removed = freed = kept = 0
    for manifest_path in sorted(home.staging.glob("*/*/*.manifest.json")):
        staged = StagedFile.from_manifest(manifest_path)
        m = staged.manifest
        processed = m.get("processed_at")
        if staged.purged or not processed or _shanghai_date(processed) >= before:
            continue
        department, month = manifest_path.parent.parent.name, manifest_path.parent.name
        if submission_id(department, month, staged.sha256) not in loaded:
            kept += 1
            continue
        victims = [p for p in (staged.rows, staged.rejections, staged.rejected) if p]
        victims += [p for p in _inbox_originals(home, registry, department, month, m) if _sha(p) == staged.sha256]
        report = m.get("report_path")  # found by name in this home's outbox (the home may have moved)
        if report and (home.partition_outbox(department, month) / Path(report).name).is_file():
            victims.append(home.partition_outbox(department, month) / Path(report).name)
        feedback = home.partition_outbox(department, month) / FEEDBACK_FILE  # the nightly rewrites it without
        if feedback.is_file() and feedback not in victims:                  # purged submissions (lists/feedback)
            victims.append(feedback)
        for path in victims:
            freed += path.stat().st_size
            path.unlink()
        removed += len(victims)
        files += 1
        m.update(purged_at=dt.datetime.now(dt.timezone.utc).isoformat(), purged_before=before.isoformat(),
                 report_path=None)
        atomic_write_text(manifest_path, json.dumps(m, ensure_ascii=False, indent=2))
    return PurgeResult(before, files, removed, freed, kept)


def _recorded_submissions(home: Home) -> set[str]:
    if not home.warehouse.exists():
        return set()
    conn = schema.connect(home.warehouse, read_only=True)
    try:
        return {sid for (sid,) in conn.execute("SELECT submission_id FROM ops.submission").fetchall()}
    finally:
        conn.close()


def _inbox_originals(home: Home, registry, department: str, month: str, manifest: dict) -> list[Path]:
    """Inbox files of the partition with the manifest's file name (the folder may be named by an alias)."""
    if not home.inbox.is_dir():
        return []
    folders = [f for f in home.inbox.iterdir() if f.is_dir() and (
        f.name == department or getattr(registry.department_for_folder(f.name), "code", None) == department)]
    return [p for folder in folders for p in inbox_files(folder / month) if p.name == manifest.get("file_name")]


def _sha(path: Path) -> str:
    from .intake import file_sha256

    return file_sha256(path)


def _shanghai_date(timestamp: str) -> dt.date:
    return dt.datetime.fromisoformat(timestamp).astimezone(SHANGHAI).date()
