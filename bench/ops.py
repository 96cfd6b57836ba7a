"""Operating through Dagster: a real `dagster-daemon` (started as README.md says: daemon + the code server it
starts) on a temporary home, with the default sensor interval (BS_CREDIT_SENSOR_SECONDS=30). Drops one demo
folder, then six at once, and reports drop-to-loaded latency per folder — split into the wait for the sensor
(drop -> run created), the run queue (created -> started) and the run (started -> ended) — and the peak memory of
all pipeline processes together (sum of RSS and of PSS, sampled every 0.5 s). Side by side: `bs-credit run`
(in process, what an operator would otherwise do) loading the same six folders on a fresh home.

    .venv/bin/python -m bench.ops
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from bs_credit_pipeline.contracts import Registry
from bs_credit_pipeline.demo import write_demo_inbox
from bs_credit_pipeline_tests import faultkit
from bs_credit_pipeline_tests.daemonkit import BIN, Daemon

TODAY = dt.date(2026, 11, 27)


class Sampler(threading.Thread):
    def __init__(self, daemon: Daemon):
        super().__init__(daemon=True)
        self.d, self.stop, self.peak_rss, self.peak_pss, self.peak_procs = daemon, threading.Event(), 0.0, 0.0, 0
        self.ticks: dict[tuple[int, str], int] = {}  # (pid, start time) -> last seen utime + stime

    def run(self) -> None:
        while not self.stop.is_set():
            rss, pss = self.d.memory_mib()
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            pids = self.d.processes()
            self.peak_procs = max(self.peak_procs, len(pids))
            for pid in pids:
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except (OSError, IndexError):
                    continue
                self.ticks[(pid, fields[19])] = int(fields[11]) + int(fields[12])
            time.sleep(0.5)

    def cpu_seconds(self) -> float:
        """CPU seconds of every pipeline process seen (a process's last 0.5 s before it ended are missed)."""
        return sum(self.ticks.values()) / os.sysconf("SC_CLK_TCK")


def _folders(src: Path) -> list[tuple[str, str, list[Path]]]:
    write_demo_inbox(src, Registry.load(), TODAY)
    out = []
    for dept in sorted(p for p in src.iterdir() if p.is_dir()):
        for month in sorted(p for p in dept.iterdir() if p.is_dir()):
            out.append((dept.name, month.name, sorted(month.iterdir())))
    return out


def _drop_and_wait(d: Daemon, folders, timeout: float = 900) -> list[dict]:
    dropped = {(dept, month): d.drop(dept, month, files) for dept, month, files in folders}
    rows = []
    for (dept, month), at in dropped.items():
        run = d.wait_run(dept, month, timeout, after=at)
        rows.append({"folder": f"{dept}/{month}", "status": run.dagster_run.status.value,
                     "sensor": run.create_timestamp.timestamp() - at, "queue": run.start_time - run.create_timestamp.timestamp(),
                     "run": run.end_time - run.start_time, "total": run.end_time - at})
    return rows


def _print(title: str, rows: list[dict]) -> None:
    print(title)
    for r in rows:
        print(f"  {r['folder']:<16} {r['status']:<8} sensor {r['sensor']:5.1f} s  queue {r['queue']:5.1f} s  "
              f"run {r['run']:5.1f} s  drop-to-loaded {r['total']:6.1f} s")
    print(f"  all loaded {max(r['total'] for r in rows):.1f} s after the drop")


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-ops-"))
    try:
        folders = _folders(work / "src")
        one, six = folders[0], folders[1:7]
        print(f"load average at start: {os.getloadavg()}")
        d = Daemon(work / "daemon")
        started = time.time()
        d.start()
        sampler = Sampler(d)
        sampler.start()
        try:
            while "inbox_sensor" not in d.tail(100_000):  # the code server is up and the sensor has ticked
                assert d.proc.poll() is None, d.tail()
                time.sleep(0.5)
            print(f"daemon up, first sensor tick after {time.time() - started:.1f} s")
            _print("one folder:", _drop_and_wait(d, [one]))
            _print("six folders at once:", _drop_and_wait(d, six))
        finally:
            sampler.stop.set()
            sampler.join()
            d.stop()
        print(f"peak memory of all pipeline processes: RSS {sampler.peak_rss:.0f} MiB, PSS {sampler.peak_pss:.0f} "
              f"MiB ({sampler.peak_procs} processes at most); {sampler.cpu_seconds():.1f} CPU s in all, daemon "
              "start and idle ticks included")
        home = work / "run-home"
        for dept, month, files in six:
            (home / "inbox" / dept / month).mkdir(parents=True)
            for f in files:
                shutil.copy(f, home / "inbox" / dept / month / f.name)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        result = subprocess.run([str(BIN / "bs-credit"), "run", "--home", str(home), "--as-of", TODAY.isoformat()],
                                env=faultkit.env(), capture_output=True, text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        print(f"side by side: `bs-credit run` on the same six folders (intake + load + nightly job), exit "
              f"{result.returncode}: {wall:.1f} s wall, {cpu:.1f} CPU s")
        print(f"load average at end: {os.getloadavg()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
