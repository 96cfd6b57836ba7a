"""What each `bs-credit` command checks before it starts, and how a user or environment error is told.

`preflight(args)` runs the config.py checks a command needs, before it writes anything. `user_error(exc)` maps an
exception (or its cause, when Dagster wrapped it) that is the user's or the environment's to an exit code and one
line in Chinese and English; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import os
import signal
from pathlib import Path

from . import config
from .config import ConfigError
from .locking import WarehouseBusy
from .paths import Home

EXIT_BUSY, EXIT_NO_SPACE = 3, config.EXIT_NO_SPACE
_NEEDS_KEY = {"run", "lookup", "explain"}
_AUDITED = {"lookup", "explain"}  # look-ups of a named subject: operator and purpose, an existing warehouse
_AS_OF = {"run", "demo"}
_DAGSTER = {"run", "demo", "ui"}  # start Dagster runs or the daemon: their thresholds are checked first


def preflight(args) -> None:
    """Check the command's configuration; raises ConfigError before any work."""
    command = args.command
    if command in _AUDITED and not all((v or "").strip() for v in (args.operator, args.purpose)):
        raise ConfigError("查询个人信用记录须注明操作人（--operator）和查询目的（--purpose），并将被记录审计。",
                          f"{command} needs --operator and --purpose (both are written to the audit log)")
    for date in (getattr(args, "as_of", None), getattr(args, "before", None)):
        if date:
            config.parse_date(date)
    if hasattr(args, "home"):
        home = Home.from_env(args.home)
        config.check_home(home)
        config.check_free_space(home)
        config.check_waits()
        if command in _DAGSTER:
            config.max_reject_rate()
            config.sensor_seconds()
        if command in _NEEDS_KEY:
            config.check_key(home)
        if command in _AUDITED and not home.warehouse.exists():
            raise ConfigError(f"数据仓库 {home.warehouse} 尚不存在：请先运行 bs-credit run。",
                              f"no warehouse at {home.warehouse} yet; run `bs-credit run` first")
    if command == "template" and args.output:
        _check_output(Path(args.output))


def _check_output(path: Path) -> None:
    if path.is_dir():
        raise ConfigError(f"-o {path} 是一个文件夹：请给出文件名，例如 {path / '模板.xlsx'}。",
                          f"-o {path} is a directory; give a file name")
    parent = path.resolve().parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise ConfigError(f"无法写入 {path}：文件夹 {parent} 不存在或不可写。", f"cannot write {path}: {parent} is "
                          "missing or not writable")


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


_NO_SPACE = ("No space left on device", "database or disk is full")  # DuckDB's and SQLite's (Dagster's) words


def _no_space(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    return any(words in str(exc) for words in _NO_SPACE)


def user_error(exc: BaseException) -> tuple[int, str] | None:
    """(exit code, one line) when `exc` or an exception it wraps is a user or environment error, else None."""
    from .interrupts import received_signal

    for e in _chain(exc):
        if isinstance(e, ConfigError):
            return e.exit_code, e.line()
        if isinstance(e, WarehouseBusy):
            return EXIT_BUSY, f"{e.zh} | {e.en}"
        if isinstance(e, KeyboardInterrupt) or type(e).__name__ == "DagsterExecutionInterruptedError":
            signum = getattr(e, "signum", None) or received_signal() or signal.SIGINT
            name = signal.Signals(signum).name
            return 128 + signum, (f"已中断（{name}）：已提交的数据不受影响，下次运行从中断处继续。 | interrupted ({name}); "
                                  "committed work is kept and the next run resumes")
        if _no_space(e):
            where = getattr(e, "filename", None) or ""
            return EXIT_NO_SPACE, (f"磁盘空间不足 {where}：本次处理未完成，仓库与分析快照保持处理前的状态，请清理磁盘后重新运行。"
                                   f" | no space left on device {where}; nothing was half-written: free space and "
                                   "run again")
    return None
