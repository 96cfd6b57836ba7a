-- The rows of mart.record_status: one row per current record version (among the display base's `rows`), its
-- display parameters and its status as of the date, with the reason (Chinese). Status precedence: future,
-- deleted, repaired, not_displayed, expired/removed, withheld, active. A record corrected after an objection
-- (更正) has a current version that corrects an earlier one (version > 1, change_reason 'corrected').
--
-- Inputs:     display_base.sql (fragment `base`), temp_objection_state (objection_state.sql),
--             mart.repair_decision (repair_decision.sql).
-- Parameters: run_params.as_of.
-- Rendered fragments (lists.display.status_fragments):
--   base         display_base.sql with its own fragments
--   reason_text  CASE reason_key WHEN 'future' THEN <text> ... END: the texts of display_periods.yaml
--                status_reasons, their {placeholders} filled from the columns named there
WITH b AS (/*{base}*/), rep AS (
    SELECT record_id, min(coalesce(decided_date, received_date)) AS repaired_on
    FROM mart.repair_decision WHERE status = 'granted' GROUP BY record_id
), s AS (
    SELECT b.*, p.as_of, o.deleted_on, o.pending_since, o.corrected_on, rep.repaired_on,
           CASE
             WHEN b.record_date > p.as_of THEN 'future'
             WHEN o.deleted_on IS NOT NULL THEN 'deleted'
             WHEN rep.repaired_on IS NOT NULL THEN 'repaired'
             WHEN NOT b.shown THEN 'not_displayed'
             WHEN b.display_max_end <= p.as_of AND b.cut_by_end_date AND b.end_status = 'removed' THEN 'removed'
             WHEN b.display_max_end <= p.as_of AND b.cut_by_end_date AND b.polarity = 'good' THEN 'validity_passed'
             WHEN b.display_max_end <= p.as_of AND b.cut_by_end_date THEN 'end_date_passed'
             WHEN b.display_max_end <= p.as_of THEN 'expired'
             WHEN o.pending_since IS NOT NULL THEN 'objection_pending'
             WHEN o.corrected_on IS NOT NULL AND NOT (b.version > 1 AND b.change_reason = 'corrected')
               THEN 'objection_corrected'
             WHEN b.display_max_end IS NULL THEN 'active_no_end'
             ELSE 'active' END AS reason_key
    FROM b
    CROSS JOIN run_params p
    LEFT JOIN temp_objection_state o ON o.record_id = b.record_id
    LEFT JOIN rep ON rep.record_id = b.record_id
)
SELECT b.record_id, b.version_id, b.kind, b.domain,
       b.subject_id, b.subject_type, b.subject_name, b.department,
       b.record_date, b.end_date, b.category, b.polarity, b.severity_tier, b.rule_id,
       b.display_min_end, b.display_max_end,
       CASE b.reason_key
         WHEN 'end_date_passed' THEN b.end_status
         WHEN 'validity_passed' THEN b.end_status
         WHEN 'removed' THEN b.end_status
         WHEN 'objection_pending' THEN 'withheld'
         WHEN 'objection_corrected' THEN 'withheld'
         WHEN 'active_no_end' THEN 'active'
         ELSE b.reason_key END AS status,
       /*{reason_text}*/ AS status_reason,
       b.file_name, b.sheet, b.excel_row, b.as_of
FROM s AS b
