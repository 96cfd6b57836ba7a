-- The records the government-affairs integrity evaluation (lists.gov_integrity: scoring and warnings in Python,
-- the records being few) reads as of the date: records of government bodies (by subject), plus records naming a
-- division or a body employer in their payload, with that division and employer; ordered by record date.
--
-- Inputs:     mart.record_status, core.credit_record (payload), rule_gov_integrity (one row: gov_integrity.yaml
--             body_prefix and payload fields), rule_gov_employer_kind (the kinds counted for a body employer).
-- Parameters: run_params.as_of.
-- Rendered fragment (lists.gov_integrity.kinds_fragment):
--   kinds     the kinds of the indicators and red warnings as a literal IN list: DuckDB pushes it into the scan
-- The payload conditions read core.credit_record alone (its kind is the record's), so they filter its scan; a
-- cheap substring test comes before the JSON parse (payload keys are written plain).
WITH st AS NOT MATERIALIZED (
    SELECT s.* FROM mart.record_status s
    WHERE s.as_of = (SELECT as_of FROM run_params) AND s.kind IN /*{kinds}*/
),
body AS (
    SELECT st.version_id FROM st CROSS JOIN rule_gov_integrity g
    WHERE st.subject_type = 'org' AND starts_with(st.subject_id, g.body_prefix)
),
named AS (
    SELECT c.version_id FROM core.credit_record c CROSS JOIN rule_gov_integrity g
    WHERE (contains(CAST(c.payload AS VARCHAR), g.division_field)
           AND json_extract_string(c.payload, g.division_path) IS NOT NULL)
       OR (c.kind IN (SELECT kind FROM rule_gov_employer_kind)
           AND starts_with(upper(trim(json_extract_string(c.payload, g.employer_path))), g.body_prefix))
)
SELECT s.record_id, s.kind, s.subject_id, s.subject_type, s.subject_name, s.department, s.file_name, s.sheet,
       s.excel_row, s.category, s.record_date, s.status,
       json_extract_string(c.payload, g.division_path) AS division,
       upper(trim(json_extract_string(c.payload, g.employer_path))) AS employer,
       json_extract_string(c.payload, g.employer_name_path) AS employer_name
FROM (SELECT version_id FROM body UNION SELECT version_id FROM named) v  -- few: the hash side, st probes
JOIN st s ON s.version_id = v.version_id
JOIN core.credit_record c ON c.version_id = s.version_id
CROSS JOIN rule_gov_integrity g
ORDER BY s.record_date, s.record_id
