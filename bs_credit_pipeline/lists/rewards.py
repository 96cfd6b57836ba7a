"""Reward lists: mart.red_list and mart.green_channel (SQL in lists/queries/)."""

from __future__ import annotations

import datetime as dt

from . import rule_tables, sqlfiles


def build_red_list(conn, as_of: dt.date, rules: dict) -> None:
    """Subjects with an active good record or enough recent volunteer hours, and no blocking bad record."""
    rule_tables.create(conn, rule_tables.list_statements(as_of, rules))
    sqlfiles.run(conn, "red_list")


def build_green_channel(conn, as_of: dt.date, rules: dict) -> None:
    """Red-list subjects, and subjects known >= N years with no bad record dated in the last N years."""
    rule_tables.create(conn, rule_tables.list_statements(as_of, rules))
    sqlfiles.run(conn, "green_channel")
