"""Warehouse connection settings and versioned schema migrations."""

from __future__ import annotations

import logging
import re
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from ..locking import DEFAULT_READER_WAIT, READER_WAIT_VAR, WarehouseBusy, wait_seconds
from .transaction import transaction

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MEMORY_LIMIT = "2GB"
_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
_CONFLICT = re.compile(r"Conflicting lock is held in .*?\(PID (\d+)\)")
log = logging.getLogger(__name__)


def connect(path: str | Path, *, read_only: bool = False, memory_limit: str = MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file with a bounded memory limit and a spill directory beside it."""
    path = Path(path)
    config = {"memory_limit": memory_limit}
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
        spill = path.parent / f".{path.name}.tmp"
        spill.mkdir(exist_ok=True)
        config["temp_directory"] = str(spill)
    conn = open_waiting(lambda: duckdb.connect(str(path), read_only=read_only, config=config), path)
    conn.execute("SET enable_progress_bar = false")  # the pipeline logs its own progress; no bar in CI logs
    return conn


def open_waiting(opener, path: str | Path, timeout: float | None = None):
    """Call `opener` (a DuckDB connect or ATTACH) until no other process holds a conflicting lock on `path`.

    Waits with a logged back-off up to BS_CREDIT_READER_WAIT seconds (a reader of the live file, or a writer
    outside this pipeline), then raises WarehouseBusy naming the holder's PID as DuckDB reports it.
    """
    timeout = wait_seconds(READER_WAIT_VAR, DEFAULT_READER_WAIT) if timeout is None else timeout
    started, delay, logged = time.monotonic(), 0.05, False
    while True:
        try:
            return opener()
        except duckdb.IOException as exc:
            match = _CONFLICT.search(str(exc))
            if not match:
                raise
            pid, waited = int(match.group(1)), time.monotonic() - started
            if waited >= timeout:
                raise WarehouseBusy(Path(path).name, pid, waited, READER_WAIT_VAR) from None
            if not logged:
                log.warning("%s is held by PID %s: waiting up to %.0f s", Path(path).name, pid, timeout)
                logged = True
            time.sleep(min(delay, max(timeout - waited, 0.01)))
            delay = min(delay * 2, 0.25)


def migrations() -> list[tuple[int, Path]]:
    """Numbered migration files in order: (version, path)."""
    found = []
    for path in MIGRATIONS_DIR.glob("*.sql"):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise ValueError(f"migration file name must look like 001_name.sql: {path.name}")
        found.append((int(match.group(1)), path))
    found.sort()
    versions = [v for v, _ in found]
    if versions != list(range(1, len(found) + 1)):
        raise ValueError(f"migration versions must be 1..n without gaps, found {versions}")
    return found


def current_version(conn: duckdb.DuckDBPyConnection) -> int:
    """Highest applied migration, 0 for an empty database."""
    exists = conn.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_schema = 'ops' AND table_name = 'schema_version'"
    ).fetchone()[0]
    if not exists:
        return 0
    return conn.execute("SELECT coalesce(max(version), 0) FROM ops.schema_version").fetchone()[0]


def migrate(conn: duckdb.DuckDBPyConnection, *, target: int | None = None) -> int:
    """Apply every migration above the current version (up to `target`), one transaction each.

    Returns the resulting schema version.
    """
    version = current_version(conn)
    for number, path in migrations():
        if number <= version or (target is not None and number > target):
            continue
        with transaction(conn):
            conn.execute(path.read_text(encoding="utf-8"))
            conn.execute(
                "INSERT INTO ops.schema_version VALUES (?, ?)", [number, datetime.now(timezone.utc)]
            )
        version = number
    return version
