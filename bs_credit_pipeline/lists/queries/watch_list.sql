-- mart.watch_list: 重点关注名单 — subjects with listable bad records mapped to a watch category, one row per
-- subject and category; mart.watch_unmapped: listable bad records mapped to no category whose cause contains a
-- look-alike keyword of a category (for the credit office to classify).
--
-- Inputs:     mart.record_status, temp_objection_state, core.credit_record (payload), rule_watch_look
--             (lists.yaml watch_list look_alike).
-- Parameters: none.
-- Rendered fragments (lists.sanctions.watch_fragments, from lists.yaml watch_list): the mapping conditions are
-- evaluated once per record as CASE expressions, so they stay rendered:
--   watch_fields  the payload fields the conditions and the look-alike search read, as a list f (f[1], ...)
--   watch_hits    per category, CASE WHEN <its conditions> THEN {'rule_id', 'watch_type'} END
--   look_any      whether the category and look-alike fields contain any look-alike keyword (one regex)
--   look_text     the text searched: category and the look-alike fields joined by spaces
-- Engine-specific: watch_fields reads several JSON paths in one call (a DuckDB list of paths).
CREATE OR REPLACE TEMP TABLE temp_watch_hit AS
WITH bad AS (  -- narrow rows: the hash table of the payload join stays small
    SELECT rs.version_id, rs.kind, rs.domain, rs.department, rs.severity_tier, rs.category
    FROM mart.record_status rs
    LEFT JOIN temp_objection_state os ON os.record_id = rs.record_id
    WHERE rs.polarity = 'bad' AND (rs.status = 'active' OR (rs.status = 'withheld' AND rs.record_date < os.pending_since))
), fielded AS (
    SELECT b.*, /*{watch_fields}*/ AS f FROM bad b JOIN core.credit_record cr ON cr.version_id = b.version_id
)
SELECT * FROM (
    SELECT version_id, list_filter([/*{watch_hits}*/], lambda h: h IS NOT NULL) AS hits,
           CASE WHEN /*{look_any}*/ THEN /*{look_text}*/ END AS look_text
    FROM fielded) AS w
WHERE array_length(hits) > 0 OR look_text IS NOT NULL;  -- most bad records are neither: keep the table small

CREATE OR REPLACE TABLE mart.watch_list AS
WITH hit AS (SELECT version_id, unnest(hits) AS h FROM temp_watch_hit WHERE array_length(hits) > 0)
SELECT rs.as_of, rs.subject_id,
       arg_max(rs.subject_type, {'d': rs.record_date, 'r': rs.record_id}) AS subject_type,
       arg_max(rs.subject_name, {'d': rs.record_date, 'r': rs.record_id}) AS subject_name,
       hit.h.watch_type, NOT bool_or(rs.status = 'active') AS withheld,
       to_json(list_transform(list_sort(list({'d': rs.record_date, 'r': rs.record_id, 'i': to_json({
           'record_id': rs.record_id, 'kind': rs.kind, 'department': rs.department, 'file_name': rs.file_name,
           'sheet': rs.sheet, 'excel_row': rs.excel_row, 'rule': rs.rule_id})})), lambda x: x.i)) AS reasons,
       hit.h.rule_id AS rule_id
FROM hit JOIN mart.record_status rs ON rs.version_id = hit.version_id
GROUP BY rs.as_of, rs.subject_id, hit.h.watch_type, hit.h.rule_id
ORDER BY rs.subject_id, hit.h.rule_id;

CREATE OR REPLACE TABLE mart.watch_unmapped AS
SELECT rs.as_of, rs.subject_id, rs.record_id, rs.kind, rs.department, rs.domain, rs.category,
       w.look_text AS cause, list_sort(list_distinct(list(l.rule_id))) AS looks_like,
       rs.file_name, rs.sheet, rs.excel_row
FROM temp_watch_hit w
JOIN mart.record_status rs ON rs.version_id = w.version_id
JOIN rule_watch_look l ON contains(w.look_text, l.keyword)
WHERE array_length(w.hits) = 0 AND w.look_text IS NOT NULL
GROUP BY rs.as_of, rs.subject_id, rs.record_id, rs.kind, rs.department, rs.domain, rs.category, w.look_text,
         rs.file_name, rs.sheet, rs.excel_row
ORDER BY rs.department, rs.record_id;

DROP TABLE temp_watch_hit;
