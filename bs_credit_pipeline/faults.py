"""Named fault-injection points for the crash, kill and disk-full tests (deterministic, unlike racing sleeps).

`BS_CREDIT_FAULT=<point>[@<n>][:<fault>]` makes the process fail the n-th time (default the first) it reaches
`point(<point>)`: `kill` (the default) SIGKILLs the process itself, as the OOM killer or a power cut would;
`enospc` raises the OSError a full disk raises; `meet` waits there until `BS_CREDIT_MEET=<dir>:<count>` processes
have reached it (each leaves a file named for its PID in <dir>; at most 120 s), so a test can prove that steps in
separate processes run at the same time without racing sleeps. Unset (always, in production) a point costs one
dict lookup.
The points are listed in POINTS; tests assert every one of them is reached.
"""

from __future__ import annotations

import errno
import os
import signal
import time
from pathlib import Path

FAULT_VAR = "BS_CREDIT_FAULT"
MEET_VAR = "BS_CREDIT_MEET"
MEET_TIMEOUT = 120.0
POINTS = (
    "intake.before_manifest",    # staged Parquet written, manifest not yet
    "state.before_rename",       # a state file's temporary copy written and fsynced, not yet renamed
    "run.after_intake_job",      # a partition's intake job done (loaded and recorded), the next not started
    "load.begin",                # load transaction open, nothing written
    "load.before_commit",        # every row of the load written inside the transaction
    "load.after_commit",         # load committed, the step not yet reported to Dagster
    "lists.before_commit",       # every mart table rebuilt inside the transaction
    "publish.before_rename",     # publish/<date>.tmp complete, not yet renamed into place
    "snapshot.before_swap",      # the new analytics.duckdb complete beside the old one
    "snapshot.after_swap",       # the new analytics.duckdb in place
)
_hits: dict[str, int] = {}


def point(name: str) -> None:
    """Fail here when BS_CREDIT_FAULT names this point (see the module docstring)."""
    spec = os.environ.get(FAULT_VAR)
    if not spec:
        return
    target, _, fault = spec.partition(":")
    target, _, nth = target.partition("@")
    if target != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] != int(nth or 1):
        return
    if fault == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), name)
    if fault == "meet":
        _meet()
        return
    os.kill(os.getpid(), signal.SIGKILL)


def _meet() -> None:
    """Wait until BS_CREDIT_MEET's count of processes have arrived in its folder; TimeoutError after MEET_TIMEOUT."""
    folder, _, count = os.environ[MEET_VAR].rpartition(":")
    here = Path(folder)
    (here / str(os.getpid())).touch()
    deadline = time.monotonic() + MEET_TIMEOUT
    while (arrived := sum(1 for _ in here.iterdir())) < int(count):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{arrived} of {count} processes met in {folder}")
        time.sleep(0.05)
