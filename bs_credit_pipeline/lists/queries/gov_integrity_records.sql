-- The records the government-affairs integrity evaluation (lists.gov_integrity: scoring and warnings in Python,
-- the records being few) reads as of the date: records of government bodies (by subject), plus records naming a
-- division or a body employer in their payload, with that division and employer; ordered by record date.
--
-- Inputs:     mart.record_status, core.credit_record (payload).
-- Parameters: run_params.as_of.
-- Rendered fragments (lists.gov_integrity.record_fragments, from gov_integrity.yaml), literals because this query
-- scans every payload: DuckDB pushes a literal IN list into the scan and parses a constant JSON path once:
--   kinds            the kinds of the indicators and red warnings, an IN list
--   employer_kinds   the kinds counted for a body employer, an IN list
--   body_prefix      the USCC prefix of government bodies
--   division_field   the payload key naming a division (a plain substring test before the JSON parse)
--   division_path    its JSON path
--   employer_path    the JSON path of the employer's USCC
--   employer_name_path  the JSON path of the employer's name
-- The payload conditions read core.credit_record alone (its kind is the record's), so they filter its scan; a
-- cheap substring test comes before the JSON parse (payload keys are written plain).
WITH st AS NOT MATERIALIZED (
    SELECT s.* FROM mart.record_status s
    WHERE s.as_of = (SELECT as_of FROM run_params) AND s.kind IN /*{kinds}*/
),
body AS (
    SELECT version_id FROM st WHERE subject_type = 'org' AND starts_with(subject_id, /*{body_prefix}*/)
),
named AS (
    SELECT version_id FROM core.credit_record c
    WHERE (contains(CAST(c.payload AS VARCHAR), /*{division_field}*/)
           AND json_extract_string(c.payload, /*{division_path}*/) IS NOT NULL)
       OR (c.kind IN /*{employer_kinds}*/
           AND starts_with(upper(trim(json_extract_string(c.payload, /*{employer_path}*/))), /*{body_prefix}*/))
)
SELECT s.record_id, s.kind, s.subject_id, s.subject_type, s.subject_name, s.department, s.file_name, s.sheet,
       s.excel_row, s.category, s.record_date, s.status,
       json_extract_string(c.payload, /*{division_path}*/) AS division,
       upper(trim(json_extract_string(c.payload, /*{employer_path}*/))) AS employer,
       json_extract_string(c.payload, /*{employer_name_path}*/) AS employer_name
FROM (SELECT version_id FROM body UNION SELECT version_id FROM named) v  -- few: the hash side, st probes
JOIN st s ON s.version_id = v.version_id
JOIN core.credit_record c ON c.version_id = s.version_id
ORDER BY s.record_date, s.record_id
