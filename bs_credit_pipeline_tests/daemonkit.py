"""A real `dagster-daemon` on a temporary home, started the way README.md says (shared by test_daemon.py and
bench/ops.py): `bs-credit init`, then `dagster-daemon run -w workspace.yaml` with absolute BS_CREDIT_HOME and
DAGSTER_HOME. Its runs and check results are read from the Dagster instance; its processes are found by the
DAGSTER_HOME in their environment, for the memory figures and to stop every one of them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg

from bs_credit_pipeline.proctree import stop_tree
from bs_credit_pipeline_tests import faultkit

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ENDED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]


class Daemon:
    def __init__(self, root: Path, **extra_env: str):
        self.root = Path(root).resolve()
        self.home = self.root / "home"
        self.dagster_home = self.home / "dagster"
        self.env = {**faultkit.env(), "BS_CREDIT_HOME": str(self.home), "DAGSTER_HOME": str(self.dagster_home),
                    **extra_env}
        self.log = self.root / "daemon.log"
        self.proc: subprocess.Popen | None = None
        self._instance: dg.DagsterInstance | None = None

    def start(self) -> None:
        subprocess.run([str(BIN / "bs-credit"), "init"], env=self.env, cwd=REPO, check=True, capture_output=True)
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
                                         env=self.env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def stop(self) -> None:
        if self.proc is not None:
            stop_tree(self.proc.pid, grace=10)
            self.proc.wait(timeout=30)
        for pid in self.processes():  # a run worker or code server that outlived its parent
            stop_tree(pid, grace=2)
        if self._instance is not None:
            self._instance.dispose()

    @property
    def instance(self) -> dg.DagsterInstance:
        if self._instance is None:
            self._instance = dg.DagsterInstance.from_config(str(self.dagster_home))
        return self._instance

    def drop(self, department: str, month: str, files: list[Path]) -> float:
        """Put a folder into the inbox at once (written beside, renamed in), as a file share's move does.
        Returns the time of the drop (time.time())."""
        staging = self.home / f".drop-{uuid.uuid4().hex}"
        staging.mkdir()
        for f in files:
            shutil.copy(f, staging / f.name)
        target = self.home / "inbox" / department / month
        target.parent.mkdir(parents=True, exist_ok=True)
        dropped = time.time()
        staging.rename(target)
        return dropped

    def wait_run(self, department: str, month: str, timeout: float, after: float = 0.0) -> dg.RunRecord:
        """The partition's run ended after `after`, within `timeout` s (a failure of the daemon shows its log)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for record in self.instance.get_run_records(dg.RunsFilter(
                    job_name="intake_job", statuses=ENDED, tags={"dagster/partition/department": department,
                                                                 "dagster/partition/month": month})):
                if record.end_time and record.end_time >= after:
                    return record
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"dagster-daemon exited {self.proc.returncode}:\n{self.tail()}")
            time.sleep(0.5)
        raise AssertionError(f"no run of {department}/{month} ended within {timeout} s\n{self.tail()}")

    def checks(self, run_id: str) -> dict[str, dg.AssetCheckEvaluation]:
        """Check name -> its evaluation in the run."""
        out = {}
        for entry in self.instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
            evaluation = entry.dagster_event.event_specific_data
            out[evaluation.check_name] = evaluation
        return out

    def processes(self) -> list[int]:
        """Every process whose environment names this DAGSTER_HOME (daemon, code server, run workers)."""
        marker = f"DAGSTER_HOME={self.dagster_home}".encode()
        found = []
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit() and int(proc.name) != os.getpid():
                try:
                    if marker in (proc / "environ").read_bytes().split(b"\0"):
                        found.append(int(proc.name))
                except OSError:
                    pass
        return found

    def memory_mib(self) -> tuple[float, float]:
        """(sum of RSS, sum of PSS) of the pipeline's processes now, MiB."""
        rss = pss = 0
        for pid in self.processes():
            try:
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
            except OSError:
                pass
        return rss / 1024, pss / 1024

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""
