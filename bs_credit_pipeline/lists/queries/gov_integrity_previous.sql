-- The county rows of the latest stored government-integrity evaluation before as_of (for lists.gov_integrity's
-- score-drop warnings).
--
-- Inputs:     mart.gov_integrity_history.
-- Parameters: run_params.as_of.
SELECT h.evaluated_id, h.score, h.indicators
FROM mart.gov_integrity_history h
WHERE h.evaluated_type = 'county'
  AND h.as_of = (SELECT max(as_of) FROM mart.gov_integrity_history
                 WHERE as_of < (SELECT as_of FROM run_params))
