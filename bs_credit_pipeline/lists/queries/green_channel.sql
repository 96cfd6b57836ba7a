-- mart.green_channel: 绿色通道（容缺受理） — red-list subjects, and subjects known for at least N years with no
-- bad record dated in the last N years; one row per subject and basis.
--
-- Inputs:     temp_red_item (red_list.sql), mart.record_status, rule_green_channel (one row: lists.yaml
--             green_channel), rule_value_set (its status sets), rule_text (basis texts; green_basis_clean is a
--             template: {years} and {first_date} are replaced).
-- Parameters: none (the clean window start is rule_green_channel.clean_since, as_of minus the years).
CREATE OR REPLACE TABLE mart.green_channel AS
WITH from_red AS (
    SELECT rs.as_of, rs.subject_id,
           arg_max(rs.subject_type, {'d': rs.record_date, 'r': rs.record_id}) AS subject_type,
           arg_max(rs.subject_name, {'d': rs.record_date, 'r': rs.record_id}) AS subject_name,
           (SELECT text FROM rule_text WHERE name = 'green_basis_red_list') AS basis,
           to_json(list_transform(list_sort(list({'d': rs.record_date, 'r': rs.record_id, 'i': to_json({
               'record_id': rs.record_id, 'kind': rs.kind, 'department': rs.department, 'file_name': rs.file_name,
               'sheet': rs.sheet, 'excel_row': rs.excel_row, 'rule': rs.rule_id})})), lambda x: x.i)) AS reasons,
           (SELECT red_rule_id FROM rule_green_channel) AS rule_id
    FROM temp_red_item rs GROUP BY rs.as_of, rs.subject_id
), known AS (
    SELECT rs.subject_id, min(rs.record_date) AS first_date,
           bool_or(rs.polarity = 'bad' AND (
               rs.status IN ('active', 'withheld')
               OR (rs.status IN (SELECT value FROM rule_value_set
                                 WHERE name = 'green_channel.clean_history.blocking_statuses')
                   AND rs.record_date > g.clean_since)))
               AS blocked
    FROM mart.record_status rs
    CROSS JOIN rule_green_channel g
    WHERE rs.status NOT IN (SELECT value FROM rule_value_set WHERE name = 'green_channel.clean_history.ignored_statuses')
    GROUP BY rs.subject_id
), first_record AS (  -- the earliest record of an eligible subject (ties: smallest record_id)
    SELECT rs.* FROM mart.record_status rs
    JOIN known k ON k.subject_id = rs.subject_id AND k.first_date = rs.record_date
    CROSS JOIN rule_green_channel g
    WHERE NOT k.blocked AND k.first_date <= g.clean_since
      AND rs.status NOT IN (SELECT value FROM rule_value_set WHERE name = 'green_channel.clean_history.ignored_statuses')
    QUALIFY row_number() OVER (PARTITION BY rs.subject_id ORDER BY rs.record_id) = 1
), from_history AS (  -- one record per subject: its reasons list needs no aggregate
    SELECT rs.as_of, rs.subject_id, rs.subject_type, rs.subject_name,
           replace(replace(t.text, '{years}', CAST(g.clean_years AS VARCHAR)),
                   '{first_date}', coalesce(strftime(rs.record_date, '%Y-%m-%d'), '')) AS basis,
           to_json([to_json({'record_id': rs.record_id, 'kind': rs.kind, 'department': rs.department,
                             'file_name': rs.file_name, 'sheet': rs.sheet, 'excel_row': rs.excel_row,
                             'rule': rs.rule_id})]) AS reasons,
           g.clean_rule_id AS rule_id
    FROM first_record rs
    CROSS JOIN rule_green_channel g
    CROSS JOIN (SELECT text FROM rule_text WHERE name = 'green_basis_clean') t
)
SELECT * FROM from_red UNION ALL SELECT * FROM from_history
ORDER BY subject_id, rule_id;
