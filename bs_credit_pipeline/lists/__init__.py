"""Nightly lists as of a date: display periods, repair/objections, sanction and reward lists, changes.

``build_all(conn, as_of, rules)`` recomputes the mart tables inside one transaction; lists are a pure
function of (warehouse state, rules, as_of).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from zoneinfo import ZoneInfo

from .. import faults
from ..warehouse.transaction import transaction as warehouse_transaction  # `transaction` is build_all's flag
from .changes import build_list_change
from .display import build_record_status
from .rewards import build_green_channel, build_red_list
from .rules import load_rules
from .sanctions import build_black_list, build_punishment_measures, build_watch_list

__all__ = ["build_all", "load_rules", "MART_TABLES"]

log = logging.getLogger(__name__)
Step = Callable[[object, dt.date, dict], None]
MART_TABLES = (
    "record_status", "repair_decision", "objection_decision", "black_list", "punishment_measure", "watch_list",
    "watch_unmapped", "red_list", "green_channel", "list_change",
)


def build_all(conn, as_of: dt.date, rules: dict, extra_steps: Iterable[Step] = (), *,
              transaction: bool = True) -> dict[str, int]:
    """Rebuild every list for as_of in one transaction; `extra_steps(conn, as_of, rules)` run after the
    lists (points, government integrity, scorecard) and before the change list. Returns row counts.
    With transaction=False the caller's open transaction holds the work (explain rolls it back)."""
    steps: list[Step] = [
        build_record_status, build_black_list, build_punishment_measures, build_watch_list,
        build_red_list, build_green_channel, *extra_steps, build_list_change,
    ]
    with warehouse_transaction(conn, joined=not transaction):
        for step in steps:
            started = time.perf_counter()
            step(conn, as_of, rules)
            log.info("lists %s as of %s: %.1f s", step.__name__, as_of, time.perf_counter() - started)
        counts = {t: conn.execute(f"SELECT count(*) FROM mart.{t} WHERE as_of = ?", [as_of]).fetchone()[0]
                  for t in MART_TABLES}
        faults.point("lists.before_commit")
    return counts
