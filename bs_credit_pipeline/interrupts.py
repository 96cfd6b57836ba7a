"""SIGTERM and Ctrl-C stop a `bs-credit` command within seconds, whatever it is doing.

The first signal raises KeyboardInterrupt in the main thread (the command cleans up and exits 130/143) and arms a
watchdog: if the process is still alive GRACE_SECONDS later (blocked in a DuckDB query, or in a wait that swallows
interrupts), it ends itself with os._exit. That is safe by design: every load and list build is one transaction,
every state file is renamed into place, and the warehouse lock is released by the kernel (see locking.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator

GRACE_SECONDS = 7.0


class Stop(KeyboardInterrupt):
    """Raised in the main thread by the first SIGTERM / SIGINT; `signum` says which."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_armed = threading.Event()


def _watchdog(signum: int, grace: float) -> None:
    time.sleep(grace)
    os._exit(128 + signum)


def _handler(signum, frame) -> None:
    if not _armed.is_set():
        _armed.set()
        threading.Thread(target=_watchdog, args=(signum, GRACE_SECONDS), daemon=True, name="bs-credit-stop").start()
    raise Stop(signum)


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """Handle SIGTERM and SIGINT as above while the block runs (main thread only, as Python requires)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    for s in previous:
        signal.signal(s, _handler)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
