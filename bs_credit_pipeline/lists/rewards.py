"""Reward lists: mart.red_list and mart.green_channel."""

from __future__ import annotations

import datetime as dt

from .common import LATEST_NAME, LATEST_TYPE, REASON_ITEM, REASONS
from .sql import in_list, lit, template


def build_red_list(conn, as_of: dt.date, rules: dict) -> None:
    """Subjects with an active good record or enough recent volunteer hours, and no blocking bad record."""
    red = rules["lists"]["red_list"]
    good, vol = red["good_record"], red["volunteer"]
    texts = rules["lists"]["texts"]
    a = lit(as_of)
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE temp_red_item AS
        WITH blocked AS (
            SELECT DISTINCT subject_id FROM mart.record_status
            WHERE polarity = 'bad' AND status IN {in_list(red['blocking_statuses'])}
        ), vol AS MATERIALIZED (  -- payloads read for volunteer versions only
            SELECT rs.*,
                   coalesce(TRY_CAST(json_extract_string(cr.payload, {lit('$.' + vol['hours_field'])}) AS DOUBLE), 0)
                       AS hours
            FROM mart.record_status rs
            JOIN (SELECT version_id, payload FROM core.credit_record
                  WHERE kind = {lit(vol['kind'])} AND valid_to IS NULL) cr ON cr.version_id = rs.version_id
            WHERE rs.kind = {lit(vol['kind'])} AND rs.status NOT IN {in_list(vol['excluded_statuses'])}
              AND rs.record_date > CAST({a} - to_months({int(vol['window_months'])}) AS DATE)
        ), vol_subject AS (
            SELECT subject_id FROM vol GROUP BY subject_id HAVING sum(hours) >= {float(vol['min_hours'])}
        )
        SELECT rs.*, {lit(good['id'])} AS red_rule, {lit(texts['red_basis_good_record'])} AS basis, CAST(NULL AS DOUBLE) AS hours
        FROM mart.record_status rs
        WHERE rs.kind IN {in_list(good['kinds'])} AND rs.status = 'active'
          AND rs.subject_id NOT IN (SELECT subject_id FROM blocked)
        UNION ALL
        SELECT rs.* EXCLUDE (hours), {lit(vol['id'])}, {lit(texts['red_basis_volunteer'])}, rs.hours
        FROM vol rs
        WHERE rs.subject_id IN (SELECT subject_id FROM vol_subject)
          AND rs.subject_id NOT IN (SELECT subject_id FROM blocked)
    """)
    conn.execute(f"""
        CREATE OR REPLACE TABLE mart.red_list AS
        SELECT rs.as_of, rs.subject_id, {LATEST_TYPE} AS subject_type, {LATEST_NAME} AS subject_name,
               rs.basis, sum(rs.hours) AS volunteer_hours, {REASONS} AS reasons, rs.red_rule AS rule_id
        FROM temp_red_item rs
        GROUP BY rs.as_of, rs.subject_id, rs.basis, rs.red_rule
        ORDER BY rs.subject_id, rs.red_rule
    """)


def build_green_channel(conn, as_of: dt.date, rules: dict) -> None:
    """Red-list subjects, and subjects known >= N years with no bad record dated in the last N years."""
    green = rules["lists"]["green_channel"]
    clean = green["clean_history"]
    texts = rules["lists"]["texts"]
    a = lit(as_of)
    start = f"CAST({a} - to_years({int(clean['years'])}) AS DATE)"
    conn.execute(f"""
        CREATE OR REPLACE TABLE mart.green_channel AS
        WITH from_red AS (
            SELECT rs.as_of, rs.subject_id, {LATEST_TYPE} AS subject_type, {LATEST_NAME} AS subject_name,
                   {lit(texts['green_basis_red_list'])} AS basis, {REASONS} AS reasons, {lit(green['from_red_list']['id'])} AS rule_id
            FROM temp_red_item rs GROUP BY rs.as_of, rs.subject_id
        ), known AS (
            SELECT rs.subject_id, min(rs.record_date) AS first_date,
                   bool_or(rs.polarity = 'bad' AND (
                       rs.status IN ('active', 'withheld')
                       OR (rs.status IN {in_list(clean['blocking_statuses'])} AND rs.record_date > {start})))
                       AS blocked
            FROM mart.record_status rs
            WHERE rs.status NOT IN {in_list(clean['ignored_statuses'])}
            GROUP BY rs.subject_id
        ), first_record AS (  -- the earliest record of an eligible subject (ties: smallest record_id)
            SELECT rs.* FROM mart.record_status rs
            JOIN known k ON k.subject_id = rs.subject_id AND k.first_date = rs.record_date
            WHERE NOT k.blocked AND k.first_date <= {start} AND rs.status NOT IN {in_list(clean['ignored_statuses'])}
            QUALIFY row_number() OVER (PARTITION BY rs.subject_id ORDER BY rs.record_id) = 1
        ), from_history AS (  -- one record per subject: its reasons list needs no aggregate
            SELECT rs.as_of, rs.subject_id, rs.subject_type, rs.subject_name,
                   {template(texts['green_basis_clean'], years=int(clean['years']),
                             first_date="strftime(rs.record_date, '%Y-%m-%d')")} AS basis,
                   to_json([to_json({REASON_ITEM})]) AS reasons, {lit(clean['id'])} AS rule_id
            FROM first_record rs
        )
        SELECT * FROM from_red UNION ALL SELECT * FROM from_history
        ORDER BY subject_id, rule_id
    """)
