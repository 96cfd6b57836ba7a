"""Crash safety: SIGKILL a loading process at every stage of each partition's load (named fault points, so the
kills land where intended however loaded the machine is); every load is wholly present or wholly absent."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa

from bs_credit_pipeline.warehouse import schema
from bs_credit_pipeline.warehouse.load import load_partition
from bs_credit_pipeline.warehouse.staged import staged_files
from bs_credit_pipeline_tests.synthetic import citizen_id, uscc, write_staged

T0 = datetime(2026, 2, 1, tzinfo=timezone.utc)
PARTITIONS = [("scjgj", "2026-01"), ("scjgj", "2026-02"), ("gaj", "2026-01"), ("sthjj", "2026-03")]
ROWS = 1500
# Each child run loads every partition in order (a loaded one is a no-op that still passes the points), so the
# n-th hit of a point is the n-th partition's load.
KILLS = [(f"{point}@{n}", n - (point != "load.after_commit"))
         for n in range(1, len(PARTITIONS) + 1) for point in ("load.begin", "load.before_commit", "load.after_commit")]

# The child loads every partition in order (a loaded one is a no-op), checkpointing often.
CHILD = """
import sys
from datetime import datetime, timedelta, timezone
from bs_credit_pipeline.warehouse import schema
from bs_credit_pipeline.warehouse.load import load_partition
from bs_credit_pipeline.warehouse.staged import staged_files
db, staging, parts = sys.argv[1], sys.argv[2], [p.split("/") for p in sys.argv[3:]]
conn = schema.connect(db)
conn.execute("SET checkpoint_threshold = '256KB'")
schema.migrate(conn)
print("ready", flush=True)
for i, (dept, month) in enumerate(parts):
    load_partition(conn, department=dept, month=month, staged=staged_files(staging, dept, month),
                   now=datetime(2026, 2, 1, tzinfo=timezone.utc) + timedelta(days=i))
conn.close()
"""


def make_staging(staging: Path) -> None:
    for p, (dept, month) in enumerate(PARTITIONS):
        n0 = p * ROWS
        table = pa.table({
            "subject_name": [f"主体{n}" for n in range(n0, n0 + ROWS)],
            "uscc": [uscc(n) if n % 3 else None for n in range(n0, n0 + ROWS)],
            "id_number": [None if n % 3 else citizen_id(n) for n in range(n0, n0 + ROWS)],
            "decision_no": [f"保罚〔2026〕{n}号" for n in range(n0, n0 + ROWS)],
            "violation_facts": ["经查，当事人存在违法行为。" * 5] * ROWS,
            "decision_date": pa.array([date(2025, 1, 1) + timedelta(days=n % 365) for n in range(n0, n0 + ROWS)]),
        })
        write_staged(staging, dept, month, table, kind="admin_penalty", key_columns=["decision_no"],
                     date_column="decision_date", file_name=f"{dept}{month}.xlsx", received_at=T0,
                     sha256=f"{p + 1:064x}")


def state(conn) -> dict:
    return {
        "records": conn.execute("SELECT * FROM core.credit_record ORDER BY version_id").fetchall(),
        "subjects": conn.execute("SELECT * FROM core.subject ORDER BY subject_id").fetchall(),
        "submissions": conn.execute("SELECT * EXCLUDE (loaded_at) FROM ops.submission ORDER BY ALL").fetchall(),
    }


def assert_consistent(db: Path) -> int:
    """Every submission's records are all there or none are; returns how many submissions are loaded."""
    conn = schema.connect(db)
    try:
        if schema.current_version(conn) < 1:
            return 0
        per_submission = dict(conn.execute(
            "SELECT submission_id, count(*) FROM core.credit_record GROUP BY ALL").fetchall())
        submissions = dict(conn.execute("SELECT submission_id, rows_loaded FROM ops.submission").fetchall())
        assert set(per_submission) <= set(submissions)
        for sid, rows_loaded in submissions.items():
            assert per_submission.get(sid, 0) == rows_loaded == ROWS, sid
        subjects = conn.execute("SELECT count(*) FROM core.subject").fetchone()[0]
        distinct = conn.execute("SELECT count(DISTINCT subject_id) FROM core.credit_record").fetchone()[0]
        assert subjects == distinct
        return len(submissions)
    finally:
        conn.close()


def test_sigkill_during_loads_leaves_whole_submissions(tmp_path):
    staging = tmp_path / "staging"
    make_staging(staging)
    reference = schema.connect(tmp_path / "reference.duckdb")
    schema.migrate(reference)
    for i, (dept, month) in enumerate(PARTITIONS):
        load_partition(reference, department=dept, month=month, staged=staged_files(staging, dept, month),
                       now=T0 + timedelta(days=i))
    expected = state(reference)
    reference.close()

    db = tmp_path / "warehouse.duckdb"
    args = [sys.executable, "-c", CHILD, str(db), str(staging)] + [f"{d}/{m}" for d, m in PARTITIONS]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    for fault, loaded in KILLS:
        child = subprocess.run(args, stdout=subprocess.DEVNULL, env={**env, "BS_CREDIT_FAULT": fault}, timeout=120)
        assert child.returncode == -9, fault  # killed there, not finished
        assert assert_consistent(db) == loaded, fault

    subprocess.run(args, env={k: v for k, v in env.items() if k != "BS_CREDIT_FAULT"}, check=True,
                   stdout=subprocess.DEVNULL)
    assert assert_consistent(db) == len(PARTITIONS)
    conn = schema.connect(db)
    assert state(conn) == expected
    conn.close()
