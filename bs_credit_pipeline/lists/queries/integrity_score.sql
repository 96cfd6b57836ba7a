-- The integrity points (诚信积分) of natural persons as of the date: one row per person with a record dated by
-- then (the rows of mart.integrity_score). Score = base + good-record additions (capped in total, larger items
-- first) + volunteer-hour points (capped) + deductions, floored at min_score, graded by the grade table. Each
-- score lists its items (JSON): one per counted record, plus one volunteer-hours item carrying its records.
--
-- Inputs:     mart.record_status (records with a counted status), core.credit_record (volunteer hours),
--             rule_points (one row: points.yaml numbers), rule_points_status (points.yaml statuses),
--             rule_points_match (one row per rule and keyword; ord = first-match priority),
--             rule_points_grade (grade ranges) — lists/rule_tables.py points_statements.
-- Parameters: run_params.as_of.
-- Rendered fragment (lists.points.build):
--   persons   which persons to score: TRUE, or (DuckDB nightly update) those in temp_points_todo
WITH st AS NOT MATERIALIZED (
    SELECT s.record_id, s.version_id, s.kind, s.subject_id, s.subject_name, s.department, s.record_date,
           s.category, s.severity_tier, s.status, s.file_name, s.sheet, s.excel_row
    FROM mart.record_status s
    WHERE s.as_of = (SELECT as_of FROM run_params) AND s.subject_type = 'person' AND /*{persons}*/
),
persons AS (  -- everyone with a record dated by as_of (status 'future' = record date after as_of)
    SELECT subject_id,
           -- the name on the latest dated record (an undated one only when none is dated), ties by record_id
           arg_max(subject_name, {'d': coalesce(record_date, DATE '0001-01-01'), 'r': record_id}) AS subject_name
    FROM st WHERE status <> 'future' GROUP BY subject_id
),
counted AS (SELECT * FROM st WHERE status IN (SELECT status FROM rule_points_status)),
first_rule AS (  -- the first matching rule depends on (kind, tier, category) only: match each combination once
    SELECT k.kind, k.severity_tier, k.category, min(r.ord) AS ord
    FROM (SELECT DISTINCT kind, severity_tier, category FROM counted) k JOIN rule_points_match r
      ON k.kind = r.kind
     AND (r.severity_tier IS NULL OR k.severity_tier = r.severity_tier)
     AND (r.keyword IS NULL OR contains(coalesce(k.category, ''), r.keyword))
    GROUP BY k.kind, k.severity_tier, k.category
),
matched AS (
    SELECT c.*, r.ord, r.rule, r.title, r.points, r.section
    FROM counted c
    JOIN first_rule f ON f.kind = c.kind AND f.severity_tier IS NOT DISTINCT FROM c.severity_tier
                     AND f.category IS NOT DISTINCT FROM c.category
    JOIN rule_points_match r ON r.ord = f.ord
),
credited AS (
    SELECT *, greatest(0, least(points, (SELECT add_cap FROM rule_points) - coalesce(sum(points) OVER (
               PARTITION BY subject_id ORDER BY points DESC, record_date, record_id
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))) AS credited
    FROM matched WHERE section = 'addition'
    UNION ALL
    SELECT *, points AS credited FROM matched WHERE section = 'deduction'
),
record_items AS (
    SELECT subject_id, credited AS points, CASE section WHEN 'addition' THEN 0 ELSE 2 END AS grp,
           record_date, record_id,
           to_json({'record_id': record_id, 'kind': kind, 'department': department, 'file_name': file_name,
                    'sheet': sheet, 'excel_row': excel_row, 'category': category, 'points': credited,
                    'rule': rule, 'title': title}) AS item
    FROM credited
),
vol_records AS MATERIALIZED (  -- only volunteer records need the payload (hours)
    SELECT c.*, TRY_CAST(json_extract_string(cr.payload, p.hours_path) AS DOUBLE) AS hours
    FROM counted c
    CROSS JOIN rule_points p
    JOIN (SELECT version_id, kind, payload FROM core.credit_record WHERE valid_to IS NULL) cr
      ON cr.version_id = c.version_id AND cr.kind = p.volunteer_kind
    WHERE c.kind = p.volunteer_kind AND c.record_date > p.volunteer_since
      AND c.record_date <= (SELECT as_of FROM run_params)
),
vol AS (  -- records listed by (record_date, record_id): sorted struct keys, as in the lists' reasons
    SELECT subject_id, sum(hours) AS hours,
           list_transform(list_sort(list({'d': record_date, 'r': record_id, 'i': {
               'record_id': record_id, 'department': department, 'file_name': file_name, 'sheet': sheet,
               'excel_row': excel_row, 'record_date': record_date, 'hours': hours}})), lambda x: x.i) AS records
    FROM vol_records WHERE hours > 0 GROUP BY subject_id
),
vol_items AS (
    SELECT v.subject_id, v.points, 1 AS grp, CAST(NULL AS DATE) AS record_date, CAST(NULL AS VARCHAR) AS record_id,
           to_json({'record_id': NULL, 'kind': p.volunteer_kind, 'department': NULL, 'file_name': NULL,
                    'sheet': NULL, 'excel_row': NULL, 'category': NULL, 'points': v.points,
                    'rule': p.volunteer_rule, 'title': p.volunteer_title, 'hours': v.hours,
                    'records': v.records}) AS item
    FROM (SELECT vol.*, CAST(least(p.volunteer_cap, floor(vol.hours / p.hours_per_step) * p.points_per_step)
                             AS INTEGER) AS points
          FROM vol CROSS JOIN rule_points p) v
    CROSS JOIN rule_points p
),
items AS (SELECT * FROM record_items UNION ALL SELECT * FROM vol_items),
item_lists AS (  -- one JSON array per person: the items ordered by (grp, record_date, record_id), sorted once
    SELECT subject_id, sum(points) AS points,
           '[' || array_to_string(list_transform(list_sort(list({'g': grp, 'd': record_date, 'r': record_id,
                                                                  'i': item})), lambda x: x.i), ',') || ']' AS items
    FROM items GROUP BY subject_id
),
scores AS (
    SELECT p.subject_id, p.subject_name,
           CAST(greatest(r.min_score, r.base + coalesce(l.points, 0)) AS INTEGER) AS score,
           coalesce(l.items, '[]') AS items
    FROM persons p LEFT JOIN item_lists l ON l.subject_id = p.subject_id
    CROSS JOIN rule_points r
)
SELECT s.subject_id, s.subject_name, s.score, g.grade, s.items, r.rule_id, (SELECT as_of FROM run_params) AS as_of
FROM scores s
CROSS JOIN rule_points r
LEFT JOIN rule_points_grade g  -- the highest grade whose minimum the score reaches (no minimum: the floor)
  ON (g.min_score IS NULL OR s.score >= g.min_score) AND (g.next_min IS NULL OR s.score < g.next_min)
