-- mart.black_list: 黑名单 — subjects with active listing decisions (dishonest debtors, serious-dishonesty
-- lists), one row per subject and list, with the records behind the entry (reasons, JSON).
--
-- Inputs:     mart.record_status, temp_objection_state (both from record_status.sql / lists.display),
--             rule_black_list (lists.yaml black_list; lists/rule_tables.py).
-- Parameters: none (as_of is mart.record_status's).
--
-- A record holds a list entry when active, or when withheld by an objection received after it was already
-- listed (record date before the objection): the entry stays on internal lists, unpublished; a withheld record
-- never creates a new entry. The subject's name and type are those on its latest record (ties by record_id).
-- reasons: the items ordered by (record_date, record_id): list_sort over struct keys (NULLS LAST, like ORDER BY)
-- is the same order as an ordered aggregate, and far cheaper with many small groups.
CREATE OR REPLACE TABLE mart.black_list AS
SELECT rs.as_of, rs.subject_id,
       arg_max(rs.subject_type, {'d': rs.record_date, 'r': rs.record_id}) AS subject_type,
       arg_max(rs.subject_name, {'d': rs.record_date, 'r': rs.record_id}) AS subject_name,
       rs.kind AS list_type, b.list_name, min(rs.record_date) AS first_listed,
       max(rs.display_max_end) AS listed_until,
       NOT bool_or(rs.status = 'active') AS withheld,
       to_json(list_transform(list_sort(list({'d': rs.record_date, 'r': rs.record_id, 'i': to_json({
           'record_id': rs.record_id, 'kind': rs.kind, 'department': rs.department, 'file_name': rs.file_name,
           'sheet': rs.sheet, 'excel_row': rs.excel_row, 'rule': rs.rule_id})})), lambda x: x.i)) AS reasons,
       b.rule_id
FROM mart.record_status rs
JOIN rule_black_list b ON b.kind = rs.kind
LEFT JOIN temp_objection_state os ON os.record_id = rs.record_id
WHERE rs.polarity = 'bad' AND (rs.status = 'active' OR (rs.status = 'withheld' AND rs.record_date < os.pending_since))
GROUP BY rs.as_of, rs.subject_id, rs.kind, b.list_name, b.rule_id
ORDER BY rs.subject_id, b.rule_id;
