"""Shared by the fault tests and the kill benchmark: a small inbox in two versions, `bs-credit run` as a
subprocess (optionally killed at a named fault point), and the outcome of a home that must equal an
uninterrupted run's."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from bs_credit_pipeline.paths import Home
from bs_credit_pipeline_tests.test_intake import BASE_COLUMNS, H, penalty_row

AS_OF = dt.date(2026, 11, 27)
KEY = "test-key-not-secret-0123456789"
BS_CREDIT = str(Path(sys.executable).with_name("bs-credit"))
RUN_TIMEOUT = 180  # a run that takes longer has hung


def write_csv(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow([H[c] for c in BASE_COLUMNS])
        for row in rows:
            w.writerow([row.get(c) or "" for c in BASE_COLUMNS])
    return path


def inbox_v1(home: Home) -> None:
    """Two partitions: scjgj 2026-10 (three records, one of a person) and scjgj 2026-11 (two records)."""
    write_csv(home.inbox / "scjgj" / "2026-10" / "处罚.csv",
              [penalty_row(0), penalty_row(1, person=True), penalty_row(2)])
    write_csv(home.inbox / "scjgj" / "2026-11" / "处罚.csv",
              [penalty_row(10, decision_date="2026-11-02"), penalty_row(11, decision_date="2026-11-03")])


def inbox_v2(home: Home) -> None:
    """A corrected resubmission of 2026-10 (one record changed, one dropped); 2026-11 withdrawn (folder emptied)."""
    (home.inbox / "scjgj" / "2026-10" / "处罚.csv").unlink()
    write_csv(home.inbox / "scjgj" / "2026-10" / "处罚（更正）.csv",
              [penalty_row(0), penalty_row(1, person=True, penalty_content="罚款一万元")])
    (home.inbox / "scjgj" / "2026-11" / "处罚.csv").unlink()


def env(fault: str | None = None, **extra: str) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith(("BS_CREDIT", "DAGSTER"))}
    out.update(BS_CREDIT_PSEUDONYM_KEY=KEY, **extra)
    if fault:
        out["BS_CREDIT_FAULT"] = fault
    return out


def run(home: Home, fault: str | None = None, *args: str, **extra: str) -> subprocess.CompletedProcess:
    """`bs-credit run` on the home as a separate process; fails the test by timeout if it hangs."""
    return subprocess.run([BS_CREDIT, "run", "--home", str(home.root), "--as-of", AS_OF.isoformat(), *args],
                          env=env(fault, **extra), capture_output=True, text=True, timeout=RUN_TIMEOUT)


def loaded_copy(loaded: Home, tmp: Path) -> Home:
    """A copy of a home `run` has loaded (the inbox v1), for a test to change."""
    import shutil

    copy = Home(tmp / "home")
    shutil.copytree(loaded.root, copy.root, ignore=shutil.ignore_patterns(".warehouse.lock"))
    return copy


def run_here(home: Home, monkeypatch, *args: str, **extra: str) -> int:
    """`bs-credit run` in this process (no interpreter start): the environment it sets is restored afterwards."""
    from bs_credit_pipeline.cli import main

    for var in [v for v in os.environ if v.startswith(("BS_CREDIT", "DAGSTER"))]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("BS_CREDIT_HOME", str(home.root))  # run sets these two; monkeypatch restores them
    monkeypatch.setenv("DAGSTER_HOME", str(home.dagster_home))
    monkeypatch.setenv("BS_CREDIT_PSEUDONYM_KEY", KEY)
    for var, value in extra.items():
        monkeypatch.setenv(var, value)
    return main(["run", "--home", str(home.root), "--as-of", AS_OF.isoformat(), *args])


def outcome(home: Home) -> dict:
    """What a run leaves that must not depend on crashes: records and their versions, subjects, submissions,
    list entries, published CSV/JSON files, the snapshot's contents (load timestamps and build ids excluded)."""
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        out = {
            "records": conn.execute("""SELECT record_id, version, content_hash, change_reason, valid_to IS NULL,
                                       department, month, file_name, excel_row FROM core.credit_record
                                       ORDER BY ALL""").fetchall(),
            "subjects": conn.execute("SELECT subject_id, subject_type FROM core.subject ORDER BY ALL").fetchall(),
            "submissions": conn.execute("""SELECT submission_id, status, rows_read, rows_loaded, rows_rejected
                                           FROM ops.submission ORDER BY ALL""").fetchall(),
            "lists": {t: conn.execute(f"SELECT count(*) FROM mart.{t} WHERE as_of = ?", [AS_OF]).fetchone()[0]
                      for t in ("record_status", "black_list", "red_list", "punishment_measure", "integrity_score")},
            "statuses": conn.execute("SELECT record_id, status FROM mart.record_status WHERE as_of = ? ORDER BY ALL",
                                     [AS_OF]).fetchall(),
        }
    folder = home.publish / AS_OF.isoformat()
    # every data file; not the manifest, which holds the checksums of the XLSX files (they carry a build time)
    out["published"] = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                        for p in sorted(folder.iterdir()) if p.suffix in (".csv", ".json") and p.name != "manifest.json"}
    out["published_xlsx"] = sorted(p.name for p in folder.glob("*.xlsx"))
    with duckdb.connect(str(home.analytics), read_only=True) as conn:
        out["snapshot"] = conn.execute("""SELECT records, subjects, (SELECT count(*) FROM core.credit_record),
                                          (SELECT count(*) FROM mart.record_status) FROM snapshot_info""").fetchall()
    # half-built snapshots and publications (DuckDB's spill folder .warehouse.duckdb.tmp is no leftover)
    out["leftovers"] = sorted(p.name for p in [*home.root.iterdir(), *home.publish.iterdir()]
                              if p.name.endswith((".tmp", ".old")) and p.name != f".{home.warehouse.name}.tmp")
    return out


ZYGOTE = """
import json, os, sys, traceback
from bs_credit_pipeline.cli import main
import bs_credit_pipeline.definitions  # noqa: F401  (imported once, before any fork)
print("ready", flush=True)
for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        os.environ.update(job["env"])
        fd = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        try:
            code = main(job["argv"])
        except BaseException:
            traceback.print_exc()
            code = 99
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    print(json.dumps({"pid": pid}), flush=True)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"code": os.waitstatus_to_exitcode(status)}), flush=True)
"""


class Zygote:
    """Runs `bs-credit run` as separate processes forked from one that imported the command once: the same code
    and the same process boundary as the installed command (killed with SIGKILL, a fresh Dagster instance and DuckDB
    per run), without paying the 3-5 s of imports per run in the test suite."""

    def __init__(self, tmp: Path):
        import queue
        import threading

        self.tmp, self.count = tmp, 0
        self.proc = subprocess.Popen([sys.executable, "-c", ZYGOTE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env=env())
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(x) for x in self.proc.stdout], daemon=True).start()
        assert self.lines.get(timeout=120).strip() == "ready"

    def run(self, home: Home, fault: str | None = None, *, kill_after: float | None = None,
            **extra: str) -> tuple[int, str]:
        """(exit code, -9 when killed; output) of `bs-credit run` on the home; fails the test if it hangs.
        kill_after: SIGKILL the run that many seconds after it started, if it is still running."""
        import json
        import queue
        import signal

        self.count += 1
        log = self.tmp / f"run-{self.count}.log"
        job_env = {"BS_CREDIT_FAULT": fault or "", **extra}
        argv = ["run", "--home", str(home.root), "--as-of", AS_OF.isoformat()]
        self.proc.stdin.write(json.dumps({"env": job_env, "log": str(log), "argv": argv}) + "\n")
        self.proc.stdin.flush()
        pid = json.loads(self.lines.get(timeout=60))["pid"]
        if kill_after is not None:
            try:
                return json.loads(self.lines.get(timeout=kill_after))["code"], log.read_text()
            except queue.Empty:
                os.kill(pid, signal.SIGKILL)
        try:
            code = json.loads(self.lines.get(timeout=RUN_TIMEOUT))["code"]
        except queue.Empty:
            os.kill(pid, signal.SIGKILL)
            raise AssertionError(f"bs-credit run (fault {fault}) hung for {RUN_TIMEOUT} s") from None
        return code, log.read_text()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@contextlib.contextmanager
def tmpfs(mount: Path, options: str):
    """A tmpfs mounted at `mount` for the test (skipped where mounting is not permitted), unmounted after."""
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip(f"cannot mount a tmpfs ({options}) here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
