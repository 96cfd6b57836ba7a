"""The writer lock dies with its holder; readers of the live warehouse never break a run, and a writer that cannot
get the file in the configured time fails naming the holder's PID."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import duckdb
import pytest

from bs_credit_pipeline.locking import WarehouseBusy, writer_lock
from bs_credit_pipeline.warehouse import schema
from bs_credit_pipeline_tests import faultkit

HOLD_LOCK = "import sys, time\nfrom bs_credit_pipeline.locking import writer_lock\n" \
            "with writer_lock(sys.argv[1]):\n    print('ready', flush=True)\n    time.sleep(600)\n"
# An analyst's session: opens the live warehouse read-only again and again, each time for a while.
READER = textwrap.dedent("""
    import sys, time, duckdb
    path, hold = sys.argv[1], float(sys.argv[2])
    print("ready", flush=True)
    opened = 0
    while True:
        try:
            conn = duckdb.connect(path, read_only=True)
        except duckdb.Error:  # the writer has it: try again, as a person would
            time.sleep(0.05)
            continue
        conn.execute("SELECT count(*) FROM core.credit_record").fetchall()
        opened += 1
        print(opened, flush=True)
        time.sleep(hold)
        conn.close()
        time.sleep(2 * hold)  # reads the result, types the next query
""")


def _spawn(code: str, *args: str) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    return child


def _stop(child: subprocess.Popen) -> str:
    child.kill()
    out, _ = child.communicate()
    return out


def test_the_lock_is_released_by_the_kernel_when_its_holder_is_killed(tmp_path):
    holder = _spawn(HOLD_LOCK, str(tmp_path))
    started = time.monotonic()
    with pytest.raises(WarehouseBusy) as busy:
        with writer_lock(tmp_path, timeout=0.5):
            pass
    assert busy.value.pid == holder.pid and str(holder.pid) in busy.value.zh
    assert 0.5 <= time.monotonic() - started < 5
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    holder.stdout.close()
    with writer_lock(tmp_path, timeout=5):  # no clean-up by anyone: the kernel released it
        with writer_lock(tmp_path, timeout=0):  # re-entrant in one process
            pass


HOLD_READ_ONLY = "import sys, time, duckdb\nc = duckdb.connect(sys.argv[1], read_only=True)\n" \
                 "print('ready', flush=True)\ntime.sleep(float(sys.argv[2]))\nc.close()\ntime.sleep(600)\n"


def _migrated(db) -> None:
    conn = schema.connect(db)
    schema.migrate(conn)
    conn.close()


def test_a_writer_waits_for_a_read_only_holder_then_names_it(tmp_path, monkeypatch):
    db = tmp_path / "warehouse.duckdb"
    _migrated(db)
    monkeypatch.setenv("BS_CREDIT_READER_WAIT", "1")
    reader = _spawn(HOLD_READ_ONLY, str(db), "600")
    started = time.monotonic()
    with pytest.raises(WarehouseBusy) as busy:
        schema.connect(db)
    _stop(reader)
    assert busy.value.pid == reader.pid and f"PID {reader.pid}" in busy.value.zh
    assert busy.value.setting == "BS_CREDIT_READER_WAIT" and 1 <= time.monotonic() - started < 5


def test_a_writer_gets_the_file_once_the_reader_lets_go(tmp_path, monkeypatch):
    db = tmp_path / "warehouse.duckdb"
    _migrated(db)
    monkeypatch.setenv("BS_CREDIT_READER_WAIT", "30")
    reader = _spawn(HOLD_READ_ONLY, str(db), "1.5")  # closes its connection after 1.5 s
    started = time.monotonic()
    conn = schema.connect(db)
    conn.execute("CREATE TABLE written AS SELECT 1 AS x")
    conn.close()
    _stop(reader)
    assert 1.0 <= time.monotonic() - started < 20


def test_runs_succeed_while_an_analyst_keeps_querying_the_live_warehouse(loaded_home, tmp_path):
    home = faultkit.loaded_copy(loaded_home, tmp_path)
    reader = _spawn(READER, str(home.warehouse), "0.2")
    try:
        faultkit.inbox_v2(home)  # a load, the lists, publication and snapshot: every kind of warehouse step
        changed = faultkit.run(home)
    finally:
        opened = _stop(reader).split()
    assert changed.returncode == 0, changed.stderr[-2000:]
    assert len(opened) >= 3  # the analyst really was in the file during the run
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM core.credit_record WHERE valid_to IS NULL").fetchone()[0] == 2


def test_a_run_blocked_by_a_reader_fails_in_bounded_time_naming_it(loaded_home, tmp_path, monkeypatch, capsys):
    home = faultkit.loaded_copy(loaded_home, tmp_path)
    before = home.warehouse.read_bytes()
    faultkit.inbox_v2(home)
    reader = _spawn(HOLD_READ_ONLY, str(home.warehouse), "600")
    try:
        code = faultkit.run_here(home, monkeypatch, BS_CREDIT_READER_WAIT="2")
    finally:
        _stop(reader)
    err = capsys.readouterr().err
    assert code == 3 and "Traceback" not in err
    message = err.strip().splitlines()[-1]  # after the logged waiting notice
    assert f"PID {reader.pid}" in message and "BS_CREDIT_READER_WAIT" in message and "数据仓库" in message
    assert home.warehouse.read_bytes() == before
