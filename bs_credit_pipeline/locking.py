"""The single-writer guard of a BS_CREDIT_HOME: an OS file lock that the kernel releases when its holder dies.

DuckDB allows one writing process. Every step that opens the warehouse holds `writer_lock(home)` for the time it
has the file open, never longer: not while a run or a subprocess starts, so a killed process (SIGKILL, OOM killer,
reboot) leaves nothing to clean up. Another process waits for the lock a bounded time (BS_CREDIT_LOCK_WAIT seconds)
and then fails naming the holder's PID. Readers outside the pipeline (an analyst's DuckDB session on
warehouse.duckdb) do not take this lock; `warehouse.schema.connect` waits for them a bounded time instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)
LOCK_FILE = ".warehouse.lock"
LOCK_WAIT_VAR = "BS_CREDIT_LOCK_WAIT"
READER_WAIT_VAR = "BS_CREDIT_READER_WAIT"
DEFAULT_LOCK_WAIT = 1800.0   # another pipeline process loading a large file: minutes, not hours
DEFAULT_READER_WAIT = 300.0  # an analyst's query on the live warehouse file


class WarehouseBusy(Exception):
    """The warehouse stayed held by another process longer than the configured wait."""

    def __init__(self, what: str, pid: int | None, waited: float, setting: str):
        self.pid, self.waited, self.setting = pid, waited, setting
        holder = f"PID {pid}" if pid else "另一进程"
        holder_en = f"PID {pid}" if pid else "another process"
        self.zh = (f"数据仓库正被{holder}占用（{what}），已等待 {waited:.0f} 秒仍未释放。"
                   f"请待其结束或关闭该连接后重试；可用环境变量 {setting} 调整等待秒数。")
        self.en = (f"the warehouse is held by {holder_en} ({what}); gave up after {waited:.0f} s. Retry when it ends "
                   f"or close that connection; {setting} sets the wait in seconds.")
        super().__init__(self.en)


def wait_seconds(var: str, default: float) -> float:
    """A wait from the environment (seconds, >= 0); a malformed value is a configuration error (config.py)."""
    text = os.environ.get(var, "").strip()
    return float(text) if text else default


class _Held:
    """Per-process state of one lock file: the open descriptor and how many nested holders use it."""

    def __init__(self, fd: int):
        self.fd, self.depth = fd, 1


_held: dict[Path, _Held] = {}
_mutex = threading.RLock()


def holder_pid(lock_path: Path) -> int | None:
    """The PID the current holder wrote into the lock file (informational: the lock itself is the flock)."""
    try:
        text = lock_path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


@contextlib.contextmanager
def writer_lock(root: Path, *, timeout: float | None = None) -> Iterator[None]:
    """Hold the exclusive lock of the home at `root` (re-entrant within a process)."""
    path = Path(root) / LOCK_FILE
    timeout = wait_seconds(LOCK_WAIT_VAR, DEFAULT_LOCK_WAIT) if timeout is None else timeout
    with _mutex:
        held = _held.get(path)
        if held is not None:
            held.depth += 1
        else:
            _held[path] = _acquire(path, timeout)
    try:
        yield
    finally:
        with _mutex:
            held = _held[path]
            held.depth -= 1
            if held.depth == 0:
                del _held[path]
                fcntl.flock(held.fd, fcntl.LOCK_UN)
                os.close(held.fd)


def _acquire(path: Path, timeout: float) -> _Held:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    started = time.monotonic()
    delay, logged = 0.05, False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            waited = time.monotonic() - started
            pid = holder_pid(path)
            if waited >= timeout:
                os.close(fd)
                raise WarehouseBusy("流水线写入锁", pid, waited, LOCK_WAIT_VAR) from None
            if not logged:
                log.warning("warehouse lock %s held by PID %s: waiting up to %.0f s", path, pid, timeout)
                logged = True
            time.sleep(min(delay, max(timeout - waited, 0.01)))
            delay = min(delay * 2, 0.25)
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return _Held(fd)
