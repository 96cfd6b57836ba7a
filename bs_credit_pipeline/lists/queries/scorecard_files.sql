-- The submitted files the department scorecard (mart.department_scorecard, lists.scorecard) is computed from:
-- every file received by as_of, with its month, status, row counts and file-level error, in the order received.
-- A file counts as received at ops.submission.received_at (processed_at when missing) in the local time zone.
--
-- Inputs:     ops.submission, rule_scorecard (one row: scorecard.yaml timezone).
-- Parameters: run_params.as_of.
WITH f AS (
    SELECT s.*, CAST(coalesce(s.received_at, s.processed_at) AT TIME ZONE r.timezone AS TIMESTAMP) AS received
    FROM ops.submission s CROSS JOIN rule_scorecard r
)
SELECT f.department, f.month, f.file_name, f.status, f.rows_read, f.rows_loaded, f.rows_rejected,
       f.file_error_code, f.file_error, f.received
FROM f
WHERE CAST(f.received AS DATE) <= (SELECT as_of FROM run_params)
ORDER BY f.department, f.month, f.received, f.submission_id
