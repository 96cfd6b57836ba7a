-- Warehouse schema v2: analyst views over the v1 tables (no data change).

-- Each subject with the key its records resolve to: a legacy ORG: key linked to a USCC resolves to the USCC.
CREATE VIEW core.subject_resolved AS
SELECT s.*, coalesce(s.merged_into, s.subject_id) AS resolved_subject_id
FROM core.subject AS s;

-- The current version of every record (valid_to IS NULL), with the subject key it resolves to.
CREATE VIEW core.current_record AS
SELECT r.*, coalesce(s.merged_into, r.subject_id) AS resolved_subject_id
FROM core.credit_record AS r
LEFT JOIN core.subject AS s ON s.subject_id = r.subject_id
WHERE r.valid_to IS NULL;

-- Latest submission per department and month: who has submitted what, and how it went.
CREATE VIEW ops.partition_status AS
SELECT department, month, count(*) AS submissions,
       arg_max(status, coalesce(processed_at, received_at)) AS latest_status,
       arg_max(file_name, coalesce(processed_at, received_at)) AS latest_file,
       max(loaded_at) AS last_loaded_at,
       sum(rows_loaded) FILTER (WHERE status <> 'superseded') AS rows_loaded,
       sum(rows_rejected) FILTER (WHERE status <> 'superseded') AS rows_rejected
FROM ops.submission
GROUP BY department, month;
