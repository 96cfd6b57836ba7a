"""SIGTERM and Ctrl-C stop a `bs-credit` command within seconds, whatever it is doing.

Outside Dagster's execution the first signal raises Stop (a KeyboardInterrupt) in the main thread; inside it,
Dagster installs its own handlers and raises DagsterExecutionInterruptedError. Either way the command ends with
one line and exit code 128 + signal. Python handlers can be replaced, so the guarantee does not rest on them: the
signal also reaches a watchdog thread through `signal.set_wakeup_fd`, which Dagster leaves alone, and if the
process is still alive GRACE_SECONDS later (blocked in a DuckDB query, or in a wait that only records the
interrupt) the watchdog ends it with os._exit. That is safe by design: every load and list build is one
transaction, every state file is renamed into place, and the kernel releases the warehouse lock (locking.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
from collections.abc import Iterator

GRACE_SECONDS = 7.0
SIGNALS = (signal.SIGTERM, signal.SIGINT)
_received: list[int] = []
_lock = threading.Lock()


class Stop(KeyboardInterrupt):
    """Raised in the main thread by the first SIGTERM / SIGINT; `signum` says which."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def received_signal() -> int | None:
    """The stopping signal this process received, if any."""
    return _received[0] if _received else None


def _arm(signum: int) -> None:
    """End the process GRACE_SECONDS from now unless it has ended by then (once: the first signal counts)."""
    with _lock:
        if _received:
            return
        _received.append(signum)
    timer = threading.Timer(GRACE_SECONDS, os._exit, args=(128 + signum,))
    timer.daemon = True
    timer.start()


def _handler(signum, frame) -> None:
    _arm(signum)
    raise Stop(signum)


def _watchdog(sock: socket.socket) -> None:
    """Arms on a signal byte from the wakeup fd: it arrives even when another library replaced our handler."""
    with sock:
        while data := sock.recv(16):
            stops = [b for b in data if b in SIGNALS]
            if stops:
                _arm(stops[0])


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """SIGTERM and SIGINT handled as above while the block runs (main thread only, as Python requires)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    previous = {s: signal.getsignal(s) for s in SIGNALS}
    for s in SIGNALS:
        signal.signal(s, _handler)
    threading.Thread(target=_watchdog, args=(reader,), daemon=True, name="bs-credit-stop").start()
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        signal.set_wakeup_fd(previous_fd)
        writer.close()  # ends the watchdog thread; an armed timer still ends the process
