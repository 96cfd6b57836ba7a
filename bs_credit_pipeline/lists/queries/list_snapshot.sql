-- mart.list_snapshot: today's entries of every list, keyed by entry (history of the last N as-of dates, kept for
-- mart.list_change). Entry keys are built from IDs, never from names: a person named without an ID (a legal
-- representative) is keyed by NOID: + 16 hex of sha256(salt || name), the salt kept in internal.entry_salt.
--
-- Inputs:     mart.black_list, mart.punishment_measure, mart.watch_list, mart.red_list, mart.green_channel,
--             internal.entry_salt, rule_list_change (one row: lists.yaml snapshot_retention).
-- Parameters: run_params.as_of.
-- Engine-specific: the history table is kept up to date in place (DELETE + INSERT; DuckDB).
DELETE FROM mart.list_snapshot WHERE as_of = (SELECT as_of FROM run_params);

INSERT INTO mart.list_snapshot
SELECT as_of, 'black_list', subject_id || '|' || rule_id, subject_id, subject_type, subject_name, rule_id,
       CAST(json_extract_string(reasons, '$[*].record_id') AS VARCHAR[])
FROM mart.black_list
UNION ALL
-- one measure can reach a person through two lists of the same subject (court and serious-dishonesty)
SELECT as_of, 'punishment_measure',
       coalesce(subject_id, 'NOID:' || substr(sha256((SELECT value FROM internal.entry_salt) || subject_name), 1, 16))
           || '|' || listed_subject_id || '|' || list_type || '|' || rule_id,
       subject_id, subject_type, subject_name, rule_id,
       CAST(json_extract_string(reasons, '$[*].record_id') AS VARCHAR[])
FROM mart.punishment_measure
UNION ALL
SELECT as_of, 'watch_list', subject_id || '|' || rule_id, subject_id, subject_type, subject_name, rule_id,
       CAST(json_extract_string(reasons, '$[*].record_id') AS VARCHAR[])
FROM mart.watch_list
UNION ALL
SELECT as_of, 'red_list', subject_id || '|' || rule_id, subject_id, subject_type, subject_name, rule_id,
       CAST(json_extract_string(reasons, '$[*].record_id') AS VARCHAR[])
FROM mart.red_list
UNION ALL
SELECT as_of, 'green_channel', subject_id || '|' || rule_id, subject_id, subject_type, subject_name, rule_id,
       CAST(json_extract_string(reasons, '$[*].record_id') AS VARCHAR[])
FROM mart.green_channel;

DELETE FROM mart.list_snapshot WHERE as_of NOT IN (  -- keep the last N as-of dates
    SELECT as_of FROM (SELECT as_of, row_number() OVER (ORDER BY as_of DESC) AS n
                       FROM (SELECT DISTINCT as_of FROM mart.list_snapshot) AS d) AS k
    WHERE n <= (SELECT snapshot_retention FROM rule_list_change));
