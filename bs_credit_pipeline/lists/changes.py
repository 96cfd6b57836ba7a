"""List snapshots and mart.list_change (entries added / removed since the previous as-of); SQL in
lists/queries/list_snapshot.sql and list_diff.sql.

Entry keys are built from IDs, never from names: a person named without an ID (a legal representative) is
keyed by a token keyed with a random salt kept in internal.entry_salt, a schema that never leaves the warehouse.
"""

from __future__ import annotations

import datetime as dt
import secrets

from . import rule_tables, sqlfiles
from .sql import lit

# A person without an ID in an entry key: NOID: + 16 hex of sha256(salt || name); unguessable without the salt.
_NO_ID = "'NOID:' || substr(sha256((SELECT value FROM internal.entry_salt) || subject_name), 1, 16)"


def ensure_tables(conn) -> None:
    """mart.list_snapshot and mart.list_change persist across runs (history, keyed by as_of); the salt of
    keys without an ID is made once. Keys that an earlier version built from a name are rewritten."""
    conn.execute("""
        CREATE SCHEMA IF NOT EXISTS internal;
        CREATE TABLE IF NOT EXISTS internal.entry_salt (value VARCHAR NOT NULL);
        CREATE TABLE IF NOT EXISTS mart.list_snapshot (
            as_of DATE NOT NULL, list_name VARCHAR NOT NULL, entry_key VARCHAR NOT NULL,
            subject_id VARCHAR, subject_type VARCHAR, subject_name VARCHAR, rule_id VARCHAR,
            record_ids VARCHAR[]
        );
        CREATE TABLE IF NOT EXISTS mart.list_change (
            as_of DATE NOT NULL, previous_as_of DATE, list_name VARCHAR NOT NULL, change VARCHAR NOT NULL,
            entry_key VARCHAR NOT NULL, subject_id VARCHAR, subject_type VARCHAR, subject_name VARCHAR,
            rule_id VARCHAR, reason VARCHAR NOT NULL, reason_text VARCHAR NOT NULL
        );
    """)
    conn.execute("INSERT INTO internal.entry_salt SELECT ? WHERE NOT EXISTS (SELECT 1 FROM internal.entry_salt)",
                 [secrets.token_hex(32)])
    for table in ("list_snapshot", "list_change"):
        conn.execute(f"""
            UPDATE mart.{table} SET entry_key = {_NO_ID} || substr(entry_key, strpos(entry_key, '|'))
            WHERE list_name = 'punishment_measure' AND subject_id IS NULL AND NOT starts_with(entry_key, 'NOID:')""")


def _change_params(conn, before: dt.date | None, after: dt.date) -> None:
    conn.execute("CREATE OR REPLACE TEMP TABLE change_params AS"
                 f" SELECT {lit(after)} AS as_of, CAST({lit(before)} AS DATE) AS previous_as_of")


def build_list_change(conn, as_of: dt.date, rules: dict) -> None:
    """Snapshot today's lists and record the changes against the latest earlier as-of (history kept)."""
    rule_tables.create(conn, rule_tables.list_statements(as_of, rules))
    ensure_tables(conn)
    sqlfiles.run(conn, "list_snapshot")
    previous = conn.execute(
        f"SELECT max(as_of) FROM mart.list_snapshot WHERE as_of < {lit(as_of)}").fetchone()[0]
    _change_params(conn, previous, as_of)
    conn.execute(f"DELETE FROM mart.list_change WHERE as_of = {lit(as_of)}")
    conn.execute("INSERT INTO mart.list_change " + sqlfiles.statements("list_diff")[0])


def list_changes(conn, before: dt.date | None, after: dt.date, rules: dict) -> list[tuple]:
    """The change rows between two stored snapshots (empty when before == after)."""
    rule_tables.create(conn, rule_tables.list_statements(after, rules))
    _change_params(conn, before, after)
    return conn.execute(sqlfiles.statements("list_diff")[0]).fetchall()
