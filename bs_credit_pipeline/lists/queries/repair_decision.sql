-- mart.repair_decision: 信用修复 decisions as of the date, one row per repair application (core.repair) with its
-- status (granted | refused | flagged | unmatched | pending), unmet preconditions and reason (Chinese). A repair
-- is granted only when the department deciding it may decide for the record (deciders), the outcome word means
-- grant, the record is repairable and every precondition of the rule in force holds.
--
-- Inputs:     core.repair, display_base.sql over temp_repair_rows (the current versions of repaired records;
--             fragment `base`).
-- Parameters: run_params.as_of.
-- Rendered fragments (lists.display.repair_fragments, from repairs.yaml and display_periods.yaml):
--   base         display_base.sql over temp_repair_rows
--   decider_ok   whether the repair's department (dep) may decide for the record b (deciders)
--   grant_words  the outcome words meaning grant, as a literal IN list
--   unmet        the list of {'id', 'message', 'unmet'} of the unmet preconditions applying to the record
--   met          the met texts of the preconditions applying to the record, joined by ，
--   rule_title   the title of the record's display rule
--   reason_text  the text of reason_key (repair_reasons; not_repairable by record kind), {placeholders} filled
WITH b AS (/*{base}*/), x AS (
    SELECT rp.*, coalesce(rp.department, split_part(rp.submission_id, '|', 1)) AS dep FROM core.repair rp
), d AS (
    SELECT rp.repair_id, rp.record_id, coalesce(b.subject_id, rp.subject_id) AS subject_id,
           rp.target_kind, rp.target_ref, rp.received_date, rp.decided_date, rp.outcome, rp.dep AS department,
           rp.deciding_unit, b.department AS record_department, b.rule_id, b.display_min_end,
           b.record_id IS NOT NULL AS matched,
           coalesce(/*{decider_ok}*/, FALSE) AS decider_ok,
           rp.outcome IN /*{grant_words}*/ AS grant_word,
           coalesce(b.repairable, TRUE) AS repairable,
           coalesce(b.special, FALSE) AS special, b.kind AS record_kind,
           CASE WHEN b.record_id IS NOT NULL THEN /*{unmet}*/ END AS unmet,
           CASE WHEN b.record_id IS NOT NULL THEN /*{met}*/ END AS met,
           /*{rule_title}*/ AS rule_title
    FROM x rp LEFT JOIN b ON b.record_id = rp.record_id
), k AS (
    SELECT d.*, p.as_of,
           CASE
             WHEN NOT matched THEN 'unmatched'
             WHEN NOT repairable AND special THEN 'special_serious'
             WHEN NOT repairable THEN 'not_repairable'
             WHEN NOT decider_ok THEN 'wrong_decider'
             WHEN NOT grant_word THEN 'decided_refuse'
             WHEN array_length(unmet) > 0 THEN 'unmet'
             WHEN coalesce(decided_date, received_date) > p.as_of THEN 'pending'
             ELSE 'granted' END AS reason_key
    FROM d CROSS JOIN run_params p
)
SELECT as_of, repair_id, record_id, subject_id, target_kind, target_ref, received_date, decided_date,
       outcome, department, record_department, rule_id, display_min_end,
       CASE reason_key
         WHEN 'unmatched' THEN 'unmatched'
         WHEN 'wrong_decider' THEN 'flagged'
         WHEN 'pending' THEN 'pending'
         WHEN 'granted' THEN 'granted'
         ELSE 'refused' END AS status,
       CASE WHEN matched AND decider_ok AND grant_word AND repairable THEN list_transform(unmet, lambda u: u.id)
            ELSE CAST([] AS VARCHAR[]) END AS unmet_preconditions,
       /*{reason_text}*/ AS status_reason
FROM k
ORDER BY repair_id
