"""When a submitted file arrived: the time timeliness and the department scorecard judge.

Rule: received_at = the earliest of
  - the file's modification time (when the officer's copy landed in the inbox; an earlier mtime kept by the
    copy counts: the department delivered the content by then),
  - when the pipeline first saw it (the inbox sensor's tick that asked for its run, or `bs-credit run`'s start),
  - the arrival already recorded for the same content in this partition (the warehouse's ops.submission or its
    staged manifest), so reprocessing a file — a later run, a rebuilt manifest — never makes it later.
Processing time is processed_at, a separate column.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from .locking import writer_lock
from .paths import Home
from .warehouse import schema

SEEN_TAG = "bs_credit/seen_at"  # run tag: when the sensor (or `bs-credit run`) first saw the partition's files


def received_at(path: Path, *, seen: dt.datetime | None = None,
                recorded: dt.datetime | None = None) -> dt.datetime:
    """The file's arrival under the rule above (UTC)."""
    candidates = [dt.datetime.fromtimestamp(Path(path).stat().st_mtime, dt.timezone.utc)]
    candidates += [t.astimezone(dt.timezone.utc) for t in (seen, recorded) if t is not None]
    return min(candidates)


def parse(text: str | None) -> dt.datetime | None:
    """An ISO timestamp with zone (a run tag or manifest field), else None."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def recorded_arrivals(home: Home, department: str, month: str) -> dict[str, dt.datetime]:
    """sha256 -> earliest arrival already recorded for the partition's files (warehouse and staged manifests)."""
    found: dict[str, dt.datetime] = {}

    def keep(sha: str, when: dt.datetime | None) -> None:
        if when is not None and (sha not in found or when < found[sha]):
            found[sha] = when

    staging = home.partition_staging(department, month)
    for manifest in staging.glob("*.manifest.json") if staging.is_dir() else ():
        try:
            keep(manifest.name.removesuffix(".manifest.json"),
                 parse(json.loads(manifest.read_text(encoding="utf-8")).get("received_at")))
        except (OSError, ValueError, UnicodeDecodeError):
            continue
    if home.warehouse.exists():
        with writer_lock(home.root):
            conn = schema.connect(home.warehouse, read_only=True)
            try:
                if schema.current_version(conn) >= 1:
                    for sha, when in conn.execute(
                            "SELECT sha256, min(received_at) FROM ops.submission WHERE department = ? AND month = ? "
                            "AND received_at IS NOT NULL GROUP BY sha256", [department, month]).fetchall():
                        keep(sha, when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc))
            finally:
                conn.close()
    return found
