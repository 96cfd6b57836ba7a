-- DuckDB only (lists.engine.incremental): the end of the nightly update in place of mart.record_status, after the
-- rows of temp_status_rows were computed (record_status.sql) and inserted: the subjects of the new rows join
-- mart.record_status_change; the temp tables go.
--
-- Inputs:     mart.record_status, temp_status_todo (record_status_update.sql).
-- Parameters: none.
DROP TABLE temp_status_rows;

INSERT INTO mart.record_status_change
SELECT DISTINCT subject_id FROM mart.record_status WHERE version_id IN (SELECT version_id FROM temp_status_todo)
EXCEPT SELECT subject_id FROM mart.record_status_change;

DROP TABLE temp_status_todo;

DROP TABLE temp_status_merge;
