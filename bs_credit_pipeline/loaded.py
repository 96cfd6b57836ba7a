"""What the warehouse has already loaded, per department × month, as content fingerprints.

One notion of "already loaded" for the inbox sensor and `bs-credit run`: both read the warehouse's load records
(ops.submission, files not superseded), so neither repeats a load the other did. No side file is kept.
"""

from __future__ import annotations

import json

from .intake import file_sha256
from .locking import writer_lock
from .paths import Home
from .pipeline import InboxFolder, fingerprint_of
from .warehouse import schema

Partition = tuple[str, str]  # (department code, YYYY-MM)


def loaded_fingerprints(home: Home, *, wait: float | None = None) -> dict[Partition, str]:
    """(department, month) -> fingerprint of the distinct files the partition's last load recorded.
    `wait`: seconds to wait for the writer lock (default BS_CREDIT_LOCK_WAIT); then WarehouseBusy."""
    if not home.warehouse.exists():
        return {}
    with writer_lock(home.root, timeout=wait):
        conn = schema.connect(home.warehouse, read_only=True)
        try:
            if schema.current_version(conn) < 1:
                return {}
            rows = conn.execute("""SELECT department, month, list(DISTINCT sha256) FROM ops.submission
                                   WHERE status <> 'superseded' GROUP BY ALL""").fetchall()
        finally:
            conn.close()
    return {(department, month): fingerprint_of(shas) for department, month, shas in rows}


def purged_hashes(home: Home, department: str, month: str) -> set[str]:
    """Files of the partition whose raw copies retention purged: gone from the inbox, still part of its load."""
    staging = home.partition_staging(department, month)
    found = set()
    for manifest in staging.glob("*.manifest.json") if staging.is_dir() else ():
        try:
            if json.loads(manifest.read_text(encoding="utf-8")).get("purged_at"):
                found.add(manifest.name.removesuffix(".manifest.json"))
        except (OSError, ValueError, UnicodeDecodeError):
            continue
    return found


def wanted_fingerprint(home: Home, department: str, month: str, files) -> str:
    """The fingerprint a load of the partition's current inbox files would record (purged files included)."""
    return fingerprint_of({file_sha256(f) for f in files} | purged_hashes(home, department, month))


def to_load(home: Home, folders: list[InboxFolder],
            loaded: dict[Partition, str] | None = None) -> list[tuple[str, str, str | None]]:
    """(department, month, fingerprint) of each valid partition whose inbox differs from what was loaded;
    fingerprint None: a loaded partition whose inbox folder was emptied (its load withdraws the records)."""
    loaded = loaded_fingerprints(home) if loaded is None else loaded
    out, current = [], set()
    for folder in folders:
        if not folder.valid:
            continue
        department = folder.department
        current.add((department, folder.month))
        wanted = wanted_fingerprint(home, department, folder.month, folder.files)
        if loaded.get((department, folder.month)) != wanted:
            out.append((department, folder.month, wanted))
    for (department, month), print_key in sorted(loaded.items()):
        if (department, month) not in current and print_key != fingerprint_of(purged_hashes(home, department, month)):
            out.append((department, month, None))
    return out
