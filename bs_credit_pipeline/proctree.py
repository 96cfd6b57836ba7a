"""A process and all its descendants (Linux /proc): stop the whole tree, not only the direct child.

`dagster dev` starts a web server, a daemon and code servers, some in sessions of their own, and does not pass
SIGTERM on reliably; `bs-credit ui` stops every process it started through this."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(proc.name))
    return tree


def descendants(pid: int) -> list[int]:
    """Every living descendant of `pid`, parents before children."""
    tree, out, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(0), []):
            out.append(child)
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has ended: only its parent's wait is missing
        return (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]) != "Z"
    except (OSError, IndexError):
        return False


def stop_tree(pid: int, grace: float = 5.0) -> None:
    """SIGTERM `pid` and every descendant (listed first, so none is orphaned out of reach), then SIGKILL whatever
    is still alive after `grace` seconds."""
    procs = [pid, *descendants(pid)]
    for p in procs:
        _signal(p, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        procs = [p for p in procs if _alive(p)]
        if not procs:
            return
        for p in procs:  # children started meanwhile (a code server's restart) are taken too
            procs += [d for d in descendants(p) if d not in procs]
        time.sleep(0.1)
    for p in procs + [d for p in procs for d in descendants(p)]:
        _signal(p, signal.SIGKILL)


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass
