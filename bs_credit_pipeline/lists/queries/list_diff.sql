-- The changes between two list snapshots (mart.list_snapshot): entries added, and entries removed with why.
-- Removal reasons (lists.yaml texts.removal_reasons: status of a former reason record -> reason code and text,
-- first match wins) read mart.record_status (evaluated at the later date); an entry whose record has no current
-- version any more was corrected; any other removal: disqualified.
--
-- Inputs:     mart.list_snapshot, mart.record_status, rule_removal_reason, rule_text.
-- Parameters: change_params (one row: as_of, previous_as_of; lists.changes makes it).
WITH old AS (SELECT s.* FROM mart.list_snapshot s JOIN change_params p ON s.as_of = p.previous_as_of),
     new AS (SELECT s.* FROM mart.list_snapshot s JOIN change_params p ON s.as_of = p.as_of),
added AS (
    SELECT n.* FROM new n ANTI JOIN old o ON o.list_name = n.list_name AND o.entry_key = n.entry_key
), gone AS (
    SELECT o.* FROM old o ANTI JOIN new n ON n.list_name = o.list_name AND n.entry_key = o.entry_key
), gone_record AS (
    SELECT list_name, entry_key, unnest(record_ids) AS record_id FROM gone
), gone_status AS (  -- the first removal reason any former record's status matches; whether a record was lost
    SELECT g.list_name, g.entry_key, min(r.ord) AS reason_ord, count(rs.record_id) < count(*) AS lost_record
    FROM gone_record g
    LEFT JOIN mart.record_status rs ON rs.record_id = g.record_id
    LEFT JOIN rule_removal_reason r ON r.status = rs.status
    GROUP BY g.list_name, g.entry_key
), removed AS (
    SELECT g.*, r.reason, r.text, s.lost_record
    FROM gone g
    LEFT JOIN gone_status s ON s.list_name = g.list_name AND s.entry_key = g.entry_key
    LEFT JOIN rule_removal_reason r ON r.ord = s.reason_ord
)
SELECT p.as_of, p.previous_as_of, a.list_name, 'added' AS change, a.entry_key, a.subject_id,
       a.subject_type, a.subject_name, a.rule_id, 'new' AS reason,
       (SELECT text FROM rule_text WHERE name = 'added') AS reason_text
FROM added a CROSS JOIN change_params p
UNION ALL
SELECT p.as_of, p.previous_as_of, r.list_name, 'removed', r.entry_key, r.subject_id, r.subject_type,
       r.subject_name, r.rule_id,
       coalesce(r.reason, CASE WHEN r.lost_record THEN 'corrected' ELSE 'disqualified' END),
       coalesce(r.text, CASE WHEN r.lost_record THEN (SELECT text FROM rule_text WHERE name = 'record_lost')
                             ELSE (SELECT text FROM rule_text WHERE name = 'disqualified') END)
FROM removed r CROSS JOIN change_params p
ORDER BY list_name, change, entry_key
