"""List snapshots and mart.list_change (entries added / removed since the previous as-of).

Entry keys are built from IDs, never from names: a person named without an ID (a legal representative) is
keyed by a token keyed with a random salt kept in internal.entry_salt, a schema that never leaves the warehouse.
"""

from __future__ import annotations

import datetime as dt
import secrets

from .sql import lit

# A person without an ID in an entry key: NOID: + 16 hex of sha256(salt || name); unguessable without the salt.
_NO_ID = "'NOID:' || substr(sha256((SELECT value FROM internal.entry_salt) || subject_name), 1, 16)"
# list table -> SQL expression of the entry key (unique within one as-of)
LIST_KEYS = {
    "black_list": "subject_id || '|' || rule_id",
    # one measure can reach a person through two lists of the same subject (court and serious-dishonesty)
    "punishment_measure": f"coalesce(subject_id, {_NO_ID}) || '|' || listed_subject_id || '|' || list_type"
                          " || '|' || rule_id",
    "watch_list": "subject_id || '|' || rule_id",
    "red_list": "subject_id || '|' || rule_id",
    "green_channel": "subject_id || '|' || rule_id",
}


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


def take_snapshot(conn, as_of: dt.date, retention: int) -> None:
    """Replace the snapshot of as_of with the current list tables; keep the last `retention` as-of dates."""
    a = lit(as_of)
    conn.execute(f"DELETE FROM mart.list_snapshot WHERE as_of = {a}")
    for name, key in LIST_KEYS.items():
        conn.execute(f"""
            INSERT INTO mart.list_snapshot
            SELECT as_of, {lit(name)}, {key}, subject_id, subject_type, subject_name, rule_id,
                   CAST(json_extract_string(reasons, '$[*].record_id') AS VARCHAR[])
            FROM mart.{name}
        """)
    conn.execute(f"""
        DELETE FROM mart.list_snapshot WHERE as_of NOT IN (
            SELECT DISTINCT as_of FROM mart.list_snapshot ORDER BY as_of DESC LIMIT {int(retention)})
    """)


def diff_sql(before: dt.date | None, after: dt.date, texts: dict) -> str:
    """Changes between two snapshots; removal reasons (lists.yaml texts.removal_reasons: status of a former
    reason record -> reason code and text, first match wins) read from mart.record_status (evaluated at `after`)."""
    b, a = lit(before), lit(after)
    removal = texts["removal_reasons"]
    reason = " ".join(f"WHEN list_contains(statuses, {lit(status)}) THEN {lit(code)}" for status, code, _ in removal)
    text = " ".join(f"WHEN list_contains(statuses, {lit(status)}) THEN {lit(txt)}" for status, _, txt in removal)
    return f"""
        WITH old AS (SELECT * FROM mart.list_snapshot WHERE as_of = {b}),
             new AS (SELECT * FROM mart.list_snapshot WHERE as_of = {a}),
        added AS (
            SELECT n.* FROM new n ANTI JOIN old o ON o.list_name = n.list_name AND o.entry_key = n.entry_key
        ), gone AS (
            SELECT o.* FROM old o ANTI JOIN new n ON n.list_name = o.list_name AND n.entry_key = o.entry_key
        ), gone_record AS (
            SELECT list_name, entry_key, unnest(record_ids) AS record_id FROM gone
        ), gone_status AS (
            SELECT g.list_name, g.entry_key, list(rs.status) FILTER (WHERE rs.status IS NOT NULL) AS statuses,
                   count(rs.record_id) < count(*) AS lost_record
            FROM gone_record g LEFT JOIN mart.record_status rs ON rs.record_id = g.record_id
            GROUP BY g.list_name, g.entry_key
        ), removed AS (
            SELECT g.*, s.statuses, s.lost_record FROM gone g LEFT JOIN gone_status s USING (list_name, entry_key)
        )
        SELECT {a} AS as_of, {b} AS previous_as_of, list_name, 'added' AS change, entry_key, subject_id,
               subject_type, subject_name, rule_id, 'new' AS reason, {lit(texts['added'])} AS reason_text
        FROM added
        UNION ALL
        SELECT {a}, {b}, list_name, 'removed', entry_key, subject_id, subject_type, subject_name, rule_id,
               CASE {reason} WHEN lost_record THEN 'corrected' ELSE 'disqualified' END,
               CASE {text} WHEN lost_record THEN {lit(texts['record_lost'])} ELSE {lit(texts['disqualified'])} END
        FROM removed
        ORDER BY list_name, change, entry_key
    """


def build_list_change(conn, as_of: dt.date, rules: dict) -> None:
    """Snapshot today's lists and record the changes against the latest earlier as-of (history kept)."""
    ensure_tables(conn)
    take_snapshot(conn, as_of, rules["lists"].get("snapshot_retention", 10))
    previous = conn.execute(
        f"SELECT max(as_of) FROM mart.list_snapshot WHERE as_of < {lit(as_of)}").fetchone()[0]
    conn.execute(f"DELETE FROM mart.list_change WHERE as_of = {lit(as_of)}")
    conn.execute(f"INSERT INTO mart.list_change {diff_sql(previous, as_of, rules['lists']['texts'])}")


def list_changes(conn, before: dt.date | None, after: dt.date, texts: dict) -> list[tuple]:
    """The change rows between two stored snapshots (empty when before == after)."""
    return conn.execute(diff_sql(before, after, texts)).fetchall()
