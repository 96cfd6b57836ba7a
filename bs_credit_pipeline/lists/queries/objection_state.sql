-- temp_objection_state: per record, as of the date, the date it was deleted on objection, the date an objection
-- still pending was received (no outcome yet, an unknown outcome word, or decided after the date) and the date a
-- correction (更正) was decided; mart.objection_decision: one row per objection (core.objection) with its meaning.
--
-- Inputs:     core.objection, rule_objection_outcome (repairs.yaml objection_outcomes: word -> meaning).
-- Parameters: run_params.as_of.
-- Rendered fragment (lists.display.objection_fragments):
--   reason_text  CASE reason_key WHEN ... THEN <text> END: repairs.yaml objection_reasons, {received} and
--                {outcome} filled
CREATE OR REPLACE TEMP TABLE temp_objection_state AS
SELECT o.record_id,
       min(o.decided_date) FILTER (WHERE w.meaning = 'delete' AND o.decided_date <= p.as_of) AS deleted_on,
       min(coalesce(o.received_date, o.decided_date))
           FILTER (WHERE o.decided_date IS NULL OR o.decided_date > p.as_of OR o.outcome IS NULL
                   OR w.word IS NULL) AS pending_since,
       max(o.decided_date) FILTER (WHERE w.meaning = 'correct' AND o.decided_date <= p.as_of) AS corrected_on
FROM core.objection o
CROSS JOIN run_params p
LEFT JOIN rule_objection_outcome w ON w.word = o.outcome
WHERE o.record_id IS NOT NULL AND coalesce(o.received_date, o.decided_date, DATE '1900-01-01') <= p.as_of
GROUP BY o.record_id;

CREATE OR REPLACE TABLE mart.objection_decision AS
WITH k AS (
    SELECT o.*, p.as_of,
           CASE WHEN o.record_id IS NULL THEN 'unmatched'
                WHEN o.received_date > p.as_of THEN 'future'
                WHEN o.decided_date IS NULL OR o.decided_date > p.as_of OR o.outcome IS NULL THEN 'pending'
                ELSE coalesce(w.meaning, 'unknown_word') END AS reason_key
    FROM core.objection o
    CROSS JOIN run_params p
    LEFT JOIN rule_objection_outcome w ON w.word = o.outcome
)
SELECT as_of, objection_id, record_id, subject_id, target_kind, target_ref, received_date, decided_date, outcome,
       CASE reason_key WHEN 'unknown_word' THEN 'pending' ELSE reason_key END AS status,
       /*{reason_text}*/ AS status_reason
FROM k
ORDER BY objection_id;
