-- The government bodies known to the subject register (for lists.gov_integrity): organisations whose USCC starts
-- with the body prefix and that were not merged into another subject, with their canonical name.
--
-- Inputs:     core.subject, rule_gov_integrity (one row: gov_integrity.yaml body_prefix; lists.gov_integrity).
-- Parameters: none.
SELECT s.subject_id, s.canonical_name
FROM core.subject s CROSS JOIN rule_gov_integrity g
WHERE s.subject_type = 'org' AND starts_with(s.subject_id, g.body_prefix) AND s.merged_into IS NULL
