-- The legacy-key merges of the subject register as record_status resolves them (display_base.sql: the
-- subject_id, subject_type and subject_name of a merged subject's records); mart.record_status_merge keeps the
-- ones the stored mart.record_status was computed with.
--
-- Inputs:     core.subject.
-- Parameters: none.
SELECT s.subject_id, s.merged_into, t.subject_type AS target_type, t.canonical_name AS target_name
FROM core.subject s LEFT JOIN core.subject t ON t.subject_id = s.merged_into
WHERE s.merged_into IS NOT NULL
