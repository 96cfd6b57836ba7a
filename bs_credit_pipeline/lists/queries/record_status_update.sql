-- DuckDB only (lists.engine.incremental): the first half of the nightly update in place of mart.record_status
-- (lists.display._update_changed). Finds the versions whose status can differ from the stored one, notes their
-- subjects in mart.record_status_change, deletes their rows and leaves their current rows in temp_status_rows
-- for record_status.sql; record_status_update_end.sql finishes. A stored row keeps its status unless its version
-- is no longer current, its record has objections or repairs (or had: a status they decided: deleted, repaired,
-- withheld), its subject's merge changed, or the date moved across its record date or its end of display.
--
-- Inputs:     core.credit_record, core.objection, core.repair, mart.record_status, mart.record_status_merge,
--             temp_status_merge (record_status_merges.sql now).
-- Parameters: status_update_params (one row: lo, hi — the stored and the new as-of date, in order).
CREATE OR REPLACE TEMP TABLE temp_status_todo AS
SELECT coalesce(n.version_id, o.version_id) AS version_id  -- new, or no longer current
FROM (SELECT version_id FROM core.credit_record WHERE valid_to IS NULL) n
FULL JOIN (SELECT version_id FROM mart.record_status) o ON o.version_id = n.version_id
WHERE n.version_id IS NULL OR o.version_id IS NULL
UNION
SELECT s.version_id FROM mart.record_status s CROSS JOIN status_update_params p
WHERE s.status IN ('deleted', 'repaired', 'withheld')
   OR (s.record_date > p.lo AND s.record_date <= p.hi)
   OR (s.display_max_end > p.lo AND s.display_max_end <= p.hi)
   OR s.record_id IN (SELECT record_id FROM core.objection UNION SELECT record_id FROM core.repair);  -- nulls: no match

INSERT INTO temp_status_todo  -- the records of subjects whose merge changed
SELECT version_id FROM core.credit_record
WHERE valid_to IS NULL AND subject_id IN (
    SELECT subject_id FROM (SELECT * FROM temp_status_merge EXCEPT SELECT * FROM mart.record_status_merge) AS a
    UNION SELECT subject_id FROM (SELECT * FROM mart.record_status_merge EXCEPT SELECT * FROM temp_status_merge) AS r);

DELETE FROM mart.record_status_change;

INSERT INTO mart.record_status_change  -- the subjects of the rows replaced (record_status_update_end.sql: and new)
SELECT DISTINCT subject_id FROM mart.record_status WHERE version_id IN (SELECT version_id FROM temp_status_todo);

DELETE FROM mart.record_status WHERE version_id IN (SELECT version_id FROM temp_status_todo);

CREATE OR REPLACE TEMP TABLE temp_status_rows AS  -- read once, used thrice by display_base.sql
SELECT * FROM core.credit_record
WHERE valid_to IS NULL AND version_id IN (SELECT version_id FROM temp_status_todo);
