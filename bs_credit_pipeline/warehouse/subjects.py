"""core.subject maintenance, run inside the load transaction after the record changes.

- One row per subject key: USCC, 18-digit citizen ID, or a legacy `ORG:<code>` / `REG:<code>` key.
- Updated incrementally from the record versions the load inserted (cost grows with the batch, not with the
  warehouse); a subject's attributes are cumulative over every version ever loaded, withdrawals included.
- A record's date is its record_date, or the load date when it has none.
- name_variants: every name seen, sorted. first_seen / last_seen: earliest / latest record date.
- canonical_name: the name on the latest-dated record; on equal dates the later load wins; inside one load
  the name on more rows, then lexical order.
- uscc_prefix = USCC chars 1-2; division_code = USCC chars 3-8 or citizen ID chars 1-6; org_code = USCC chars
  9-17, the code of an ORG: key, or the organisation code intake found.
- Legacy link: an `ORG:<code>` subject gets merged_into = the USCC whose chars 9-17 equal the code, whichever
  of the two arrived first. Records keep the subject key they were submitted with; analysts resolve through
  core.subject_resolved / core.current_record.resolved_subject_id.
"""

from __future__ import annotations

from datetime import datetime

import duckdb


def _is_uscc(alias: str = "") -> str:
    return f"({alias}subject_type = 'org' AND length({alias}subject_id) = 18 AND NOT contains({alias}subject_id, ':'))"


def refresh_subjects(conn: duckdb.DuckDBPyConnection, now: datetime) -> int:
    """Merge the subjects of the versions inserted by the current load (temp table plan); returns new subjects."""
    conn.execute(
        f"""CREATE OR REPLACE TEMP TABLE subject_new AS
            WITH rows AS (
                SELECT subject_id, subject_type, subject_name, org_code,
                       coalesce(record_date, CAST($now AS DATE)) AS seen
                FROM plan WHERE action <> 'unchanged'),
            names AS (
                SELECT subject_id, subject_name, max(seen) AS seen, count(*) AS n FROM rows GROUP BY ALL),
            canonical AS (
                SELECT subject_id, subject_name AS name, seen FROM names
                QUALIFY row_number() OVER (PARTITION BY subject_id ORDER BY seen DESC, n DESC, subject_name) = 1),
            agg AS (
                SELECT subject_id, mode(subject_type) AS subject_type, list(DISTINCT subject_name) AS names,
                       any_value(org_code) AS batch_org_code, min(seen) AS first_seen, max(seen) AS last_seen
                FROM rows GROUP BY subject_id)
            SELECT a.subject_id, coalesce(old.subject_type, a.subject_type) AS subject_type,
                   CASE WHEN old.subject_id IS NULL OR c.seen >= old.last_seen THEN c.name
                        ELSE old.canonical_name END AS canonical_name,
                   list_sort(list_distinct(list_concat(coalesce(old.name_variants, []), a.names))) AS name_variants,
                   CASE WHEN {_is_uscc('a.')} THEN substr(a.subject_id, 9, 9)
                        WHEN starts_with(a.subject_id, 'ORG:') THEN substr(a.subject_id, 5)
                        ELSE coalesce(old.org_code, a.batch_org_code) END AS org_code,
                   CASE WHEN {_is_uscc('a.')} THEN substr(a.subject_id, 1, 2) END AS uscc_prefix,
                   CASE WHEN {_is_uscc('a.')} THEN substr(a.subject_id, 3, 6)
                        WHEN a.subject_type = 'person' THEN substr(a.subject_id, 1, 6) END AS division_code,
                   least(old.first_seen, a.first_seen) AS first_seen,
                   greatest(old.last_seen, a.last_seen) AS last_seen,
                   old.merged_into, old.subject_id IS NULL AS is_new
            FROM agg AS a JOIN canonical AS c USING (subject_id)
            LEFT JOIN core.subject AS old USING (subject_id)""",
        {"now": now},
    )
    conn.execute("DELETE FROM core.subject WHERE subject_id IN (SELECT subject_id FROM subject_new)")
    conn.execute("INSERT INTO core.subject SELECT * EXCLUDE (is_new) FROM subject_new")
    conn.execute(
        f"""UPDATE core.subject AS s SET merged_into = u.uscc
            FROM (SELECT org_code, min(subject_id) AS uscc FROM core.subject WHERE {_is_uscc()}
                  GROUP BY org_code) AS u
            WHERE starts_with(s.subject_id, 'ORG:') AND s.merged_into IS NULL AND s.org_code = u.org_code"""
    )
    new = conn.execute("SELECT count(*) FILTER (WHERE is_new) FROM subject_new").fetchone()[0]
    conn.execute("DROP TABLE subject_new")
    return new
