-- DuckDB only (lists.engine.incremental): the persons whose integrity score can differ from the one stored for
-- the date mart.record_status was just updated from (lists.points.build scores only these again): those whose
-- record statuses changed (mart.record_status_change) and those with volunteer records entering or leaving the
-- hours window.
--
-- Inputs:     mart.record_status_change, mart.record_status, rule_points (volunteer kind).
-- Parameters: points_update_params (one row: since_lo, since_hi — the window starts of the stored and the new
--             as-of date, in order).
SELECT subject_id FROM mart.record_status_change
UNION
SELECT s.subject_id FROM mart.record_status s CROSS JOIN points_update_params p
WHERE s.kind = (SELECT volunteer_kind FROM rule_points) AND s.subject_type = 'person'
  AND s.record_date > p.since_lo AND s.record_date <= p.since_hi
