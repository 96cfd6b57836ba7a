-- Error rows per department, month and error code for the department scorecard (lists.scorecard): rejected
-- rows of severity error in the current (not superseded) files received by as_of.
--
-- Inputs:     ops.rejected_row, ops.submission, rule_scorecard (one row: scorecard.yaml timezone).
-- Parameters: run_params.as_of.
SELECT s.department, s.month, r.code, count(*) AS n
FROM ops.rejected_row r
JOIN ops.submission s ON s.submission_id = r.submission_id
CROSS JOIN rule_scorecard z
WHERE r.severity = 'error' AND s.status <> 'superseded'
  AND CAST(CAST(coalesce(s.received_at, s.processed_at) AT TIME ZONE z.timezone AS TIMESTAMP) AS DATE)
      <= (SELECT as_of FROM run_params)
GROUP BY s.department, s.month, r.code
