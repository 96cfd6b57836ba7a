-- The display parameters of current record versions (one row per record, the subject resolved through merges):
-- severity tier, display rule, polarity, the minimum and maximum display periods and their end dates. Not run
-- alone: record_status.sql and repair_decision.sql embed it as their fragment `base`. Periods run from the record
-- date; every *_end date is exclusive (display_max_end is the first day not displayed; display_min_end the first
-- day a repair may be requested). See data_contracts/rules/display_periods.yaml.
--
-- Inputs:     the record versions `rows` (core.credit_record or a subset of its rows), core.subject,
--             rule_display (one row: special_serious months and repairability), rule_display_tier (penalty rule
--             x tier: min/max months, displayed), rule_display_situation (court situations: phrase -> term).
-- Parameters: none.
-- Rendered fragments (lists.display.base_fragments, from display_periods.yaml; rules compiled into per-record
-- CASE expressions, evaluated once per record):
--   rows            the record versions: core.credit_record, or a temp table holding some of its rows
--   penalty_kinds   the penalty kinds as a literal IN list
--   cat_columns     per distinct penalty category (its types as list t): cat_rank, proc_types,
--                   fine_minor_types, has_fine, special_types
--   cur_columns     per record: pf (penalty payload fields), rule_id0, polarity, term_end, end_role,
--                   end_inclusive, end_status, kind_repairable, kind_min_months, kind_term_months
--   tiered_columns  per record: severity_tier, special (527 特定严重失信), one_year_min
-- Engine-specific: pf reads several JSON paths in one call (a DuckDB list of paths).
WITH cat AS (  -- the category's rank and type tests, computed once per distinct category
    SELECT category, /*{cat_columns}*/
    FROM (SELECT category,  -- the 处罚类别 as a list (joined by 、 ; ； , ， at intake)
                 list_transform(string_split(regexp_replace(coalesce(category, ''), '[;；,，]', '、', 'g'), '、'),
                                lambda x: trim(x)) AS t
          FROM (SELECT DISTINCT category FROM /*{rows}*/ AS r
                WHERE valid_to IS NULL AND kind IN /*{penalty_kinds}*/) AS d) AS c
), sit AS (  -- court situations, once per distinct category: official wording matched as whole phrases
    SELECT c.kind, c.category,
           coalesce(bool_or(s.term_months IS NULL) FILTER (WHERE contains(c.category, s.phrase)), FALSE) AS no_term,
           max(s.term_months) FILTER (WHERE contains(c.category, s.phrase)) AS max_term,
           count(*) FILTER (WHERE contains(c.category, s.phrase)) AS n_match
    FROM (SELECT DISTINCT kind, coalesce(category, '') AS category FROM /*{rows}*/ AS r
          WHERE valid_to IS NULL AND kind IN (SELECT kind FROM rule_display_situation)) AS c
    JOIN rule_display_situation s ON s.kind = c.kind
    GROUP BY c.kind, c.category
), cur AS (
    SELECT r.record_id, r.version_id, r.kind, r.domain, r.subject_id, r.subject_type, r.subject_name,
           r.department, r.record_date, r.end_date, r.category, r.legal_rep_name, r.legal_rep_id,
           r.file_name, r.sheet, r.excel_row, r.version, r.change_reason,
           r.kind IN /*{penalty_kinds}*/ AS penalty,
           cat.cat_rank, cat.proc_types, cat.fine_minor_types, cat.has_fine, cat.special_types AS cat_special,
           r.severity AS explicit_severity,
           /*{cur_columns}*/
    FROM /*{rows}*/ AS r
    LEFT JOIN cat ON cat.category IS NOT DISTINCT FROM r.category AND r.kind IN /*{penalty_kinds}*/
    LEFT JOIN sit ON sit.kind = r.kind AND sit.category = coalesce(r.category, '')
    WHERE r.valid_to IS NULL
), tiered AS (
    SELECT * EXCLUDE (pf, proc_types, fine_minor_types, has_fine, cat_special),
           /*{tiered_columns}*/
    FROM cur
), params AS (
    SELECT tiered.* EXCLUDE (penalty), tiered.rule_id0 AS rule_id,
           CASE WHEN tiered.special THEN d.special_months
                WHEN tiered.penalty THEN greatest(coalesce(tiered.one_year_min, 0), t.min_months)
                ELSE tiered.kind_min_months END AS min_months,
           CASE WHEN tiered.special THEN d.special_months
                WHEN tiered.penalty THEN t.max_months
                ELSE tiered.kind_term_months END AS max_months,
           coalesce(t.displayed, TRUE) AS displayed,
           tiered.kind_repairable AND NOT (tiered.special AND NOT d.special_repairable) AS repairable
    FROM tiered
    CROSS JOIN rule_display d
    LEFT JOIN rule_display_tier t ON tiered.penalty AND t.rule_id = tiered.rule_id0 AND t.tier = tiered.severity_tier
), ends AS (
    SELECT p.*,
           CAST(p.record_date + to_months(p.min_months) AS DATE) AS display_min_end,
           CAST(coalesce(p.term_end + 1, p.record_date + to_months(p.max_months)) AS DATE) AS term_stop,
           CASE WHEN p.end_inclusive THEN p.end_date + 1 ELSE p.end_date END AS explicit_stop
    FROM params p
), ended AS (
    SELECT e.*,
           CASE WHEN NOT e.displayed AND e.explicit_stop IS NULL THEN e.record_date
                WHEN e.end_role = 'validity' THEN coalesce(e.explicit_stop, e.term_stop)
                ELSE least(e.term_stop, e.explicit_stop) END AS display_max_end,
           CASE WHEN e.explicit_stop IS NULL THEN FALSE
                WHEN e.end_role = 'validity' THEN TRUE
                ELSE e.term_stop IS NULL OR e.explicit_stop < e.term_stop END AS cut_by_end_date,
           e.displayed OR e.explicit_stop IS NOT NULL AS shown
    FROM ends e
)
SELECT b.* EXCLUDE (subject_id, subject_type, subject_name),
       coalesce(t.subject_id, s.merged_into, b.subject_id) AS subject_id,
       coalesce(t.subject_type, b.subject_type) AS subject_type,
       coalesce(t.canonical_name, b.subject_name) AS subject_name
FROM ended b
LEFT JOIN core.subject s ON s.subject_id = b.subject_id AND s.merged_into IS NOT NULL
LEFT JOIN core.subject t ON t.subject_id = s.merged_into
