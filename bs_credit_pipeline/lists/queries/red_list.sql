-- mart.red_list: 红名单 — subjects with an active good record, or enough volunteer hours within the window, and
-- no blocking bad record; one row per subject and basis. Also leaves temp_red_item (the records behind each
-- entry) for green_channel.sql.
--
-- Inputs:     mart.record_status, core.credit_record (volunteer hours in the payload),
--             rule_red_list (one row: lists.yaml red_list), rule_value_set (its status and kind sets),
--             rule_text (basis texts).
-- Parameters: none (the volunteer window start is rule_red_list.volunteer_since, as_of minus window_months).
CREATE OR REPLACE TEMP TABLE temp_red_item AS
WITH blocked AS (
    SELECT DISTINCT subject_id FROM mart.record_status
    WHERE polarity = 'bad'
      AND status IN (SELECT value FROM rule_value_set WHERE name = 'red_list.blocking_statuses')
), vol AS MATERIALIZED (  -- payloads read for volunteer versions only
    SELECT rs.*, coalesce(TRY_CAST(json_extract_string(cr.payload, r.hours_path) AS DOUBLE), 0) AS hours
    FROM mart.record_status rs
    CROSS JOIN rule_red_list r
    JOIN (SELECT version_id, kind, payload FROM core.credit_record WHERE valid_to IS NULL) cr
      ON cr.version_id = rs.version_id AND cr.kind = r.volunteer_kind
    WHERE rs.kind = r.volunteer_kind AND rs.record_date > r.volunteer_since
      AND rs.status NOT IN (SELECT value FROM rule_value_set WHERE name = 'red_list.volunteer.excluded_statuses')
), vol_subject AS (
    SELECT subject_id FROM vol GROUP BY subject_id
    HAVING sum(hours) >= (SELECT min_hours FROM rule_red_list)
)
SELECT rs.*, r.good_rule_id AS red_rule, t.text AS basis, CAST(NULL AS DOUBLE) AS hours
FROM mart.record_status rs
CROSS JOIN rule_red_list r
CROSS JOIN (SELECT text FROM rule_text WHERE name = 'red_basis_good_record') t
WHERE rs.kind IN (SELECT value FROM rule_value_set WHERE name = 'red_list.good_record.kinds')
  AND rs.status = 'active'
  AND rs.subject_id NOT IN (SELECT subject_id FROM blocked)
UNION ALL
SELECT rs.* EXCLUDE (hours), r.volunteer_rule_id, t.text, rs.hours
FROM vol rs
CROSS JOIN rule_red_list r
CROSS JOIN (SELECT text FROM rule_text WHERE name = 'red_basis_volunteer') t
WHERE rs.subject_id IN (SELECT subject_id FROM vol_subject)
  AND rs.subject_id NOT IN (SELECT subject_id FROM blocked);

CREATE OR REPLACE TABLE mart.red_list AS
SELECT rs.as_of, rs.subject_id,
       arg_max(rs.subject_type, {'d': rs.record_date, 'r': rs.record_id}) AS subject_type,
       arg_max(rs.subject_name, {'d': rs.record_date, 'r': rs.record_id}) AS subject_name,
       rs.basis, sum(rs.hours) AS volunteer_hours,
       to_json(list_transform(list_sort(list({'d': rs.record_date, 'r': rs.record_id, 'i': to_json({
           'record_id': rs.record_id, 'kind': rs.kind, 'department': rs.department, 'file_name': rs.file_name,
           'sheet': rs.sheet, 'excel_row': rs.excel_row, 'rule': rs.rule_id})})), lambda x: x.i)) AS reasons,
       rs.red_rule AS rule_id
FROM temp_red_item rs
GROUP BY rs.as_of, rs.subject_id, rs.basis, rs.red_rule
ORDER BY rs.subject_id, rs.red_rule;
