"""`bs-credit run` and `bs-credit ui` stop within 10 s on SIGTERM or Ctrl-C, even while waiting for the warehouse;
what they started stops with them."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bs_credit_pipeline_tests import faultkit

HOLD_LOCK = "import sys, time\nfrom bs_credit_pipeline.locking import writer_lock\n" \
            "with writer_lock(sys.argv[1]):\n    print('ready', flush=True)\n    time.sleep(600)\n"


def _wait_for(stream, words: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for line in stream:
        if words in line:
            return
        assert time.monotonic() < deadline, f"no {words!r} within {timeout} s"
    raise AssertionError(f"the process ended before saying {words!r}")


def test_a_run_waiting_for_the_warehouse_stops_within_10_s(loaded_home, tmp_path, signum=signal.SIGTERM, code=143):
    home = faultkit.loaded_copy(loaded_home, tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(home.root)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "ready"
    run = subprocess.Popen([faultkit.BS_CREDIT, "run", "--home", str(home.root), "--as-of", faultkit.AS_OF.isoformat()],
                           env=faultkit.env(BS_CREDIT_LOCK_WAIT="600"), stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(run.stderr, "waiting up to", 120)  # the nightly job waits for the lock (it used to hang)
        started = time.monotonic()
        run.send_signal(signum)
        rest = run.stderr.read()
        run.wait(timeout=15)
        took = time.monotonic() - started
    finally:
        run.kill()
        holder.kill()
        holder.communicate()
    assert took < 10 and run.returncode == code, (took, run.returncode, rest[-2000:])
    assert "Traceback" not in rest and "已中断" in rest.strip().splitlines()[-1]


def _processes_with(marker: str, command: str = "") -> list[int]:
    """Live processes whose environment holds `marker` (and whose command line holds `command`)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            try:
                if marker.encode() in (proc / "environ").read_bytes() and \
                        command.encode() in (proc / "cmdline").read_bytes() and \
                        (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                    found.append(int(proc.name))
            except OSError:
                pass
    return found


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def test_ui_stops_with_its_web_server_and_daemon_within_10_s(tmp_path):
    home = tmp_path / "home"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    marker = f"DAGSTER_HOME={home / 'dagster'}"
    # From any shell: no venv on PATH, started from another directory; the web server answers on --host/--port.
    env = {**faultkit.env(), "PATH": "/usr/bin:/bin"}
    ui = subprocess.Popen([faultkit.BS_CREDIT, "ui", "--home", str(home), "--host", "127.0.0.1", "--port", str(port)],
                          env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while not (_processes_with(marker, "dagster_webserver") and _processes_with(marker, "_daemon")
                   and _answers(port)):
            assert time.monotonic() < deadline and ui.poll() is None, "the web server and daemon did not start"
            time.sleep(1)
        settings = (home / "dagster" / "dagster.yaml").read_text()
        assert "nux:\n  enabled: false" in settings and "telemetry:\n  enabled: false" in settings
        started = time.monotonic()
        ui.send_signal(signal.SIGTERM)
        ui.wait(timeout=15)
        took = time.monotonic() - started
        time.sleep(0.5)
        left = _processes_with(marker, "dagster_webserver") + _processes_with(marker, "_daemon")
        deadline = time.monotonic() + 90  # code servers end when they miss the heartbeat of the dead server
        while _processes_with(marker) and time.monotonic() < deadline:
            time.sleep(1)
        orphans = _processes_with(marker)
    finally:
        for pid in [ui.pid, *_processes_with(marker)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        ui.wait()
    assert took < 10 and ui.returncode == 143, (took, ui.returncode)
    assert left == [] and orphans == []  # its web server and daemon at once, code servers by their heartbeat
