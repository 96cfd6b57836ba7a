-- mart.punishment_measure: 联合惩戒措施 — the measures of each black-list entry, for the listed subject and,
-- for a listed organisation, for its legal representative(s) (联合惩戒措施落实到人).
--
-- Inputs:     mart.black_list (black_list.sql), mart.record_status, temp_objection_state, core.credit_record
--             (legal representative columns), rule_black_list, rule_measure (measures.yaml),
--             rule_text (lists.yaml texts.measure_roles).
-- Parameters: none.
CREATE OR REPLACE TABLE mart.punishment_measure AS
WITH entries AS (
    SELECT bl.*, CASE WHEN bl.subject_type = 'org' THEN 'org' ELSE 'person' END AS role
    FROM mart.black_list bl
), reps AS (  -- legal representatives named on the listable records of each entry
    SELECT DISTINCT rs.subject_id AS listed_subject_id, rs.kind AS list_type,
           cr.legal_rep_id, cr.legal_rep_name
    FROM mart.record_status rs
    JOIN core.credit_record cr ON cr.version_id = rs.version_id
    LEFT JOIN temp_objection_state os ON os.record_id = rs.record_id
    WHERE rs.kind IN (SELECT kind FROM rule_black_list) AND rs.polarity = 'bad'
      AND (rs.status = 'active' OR (rs.status = 'withheld' AND rs.record_date < os.pending_since))
      AND coalesce(cr.legal_rep_id, cr.legal_rep_name) IS NOT NULL
), roles AS (
    SELECT (SELECT text FROM rule_text WHERE name = 'measure_roles.subject') AS subject_role,
           (SELECT text FROM rule_text WHERE name = 'measure_roles.legal_rep') AS legal_rep_role
), people AS (
    SELECT e.as_of, e.subject_id, e.subject_type, e.subject_name, roles.subject_role AS role_name, e.role,
           e.subject_id AS listed_subject_id, e.subject_name AS listed_subject_name,
           e.list_type, e.list_name, e.withheld, e.reasons
    FROM entries e CROSS JOIN roles
    UNION ALL
    SELECT e.as_of, r.legal_rep_id, 'person', r.legal_rep_name, roles.legal_rep_role, 'legal_rep',
           e.subject_id, e.subject_name, e.list_type, e.list_name, e.withheld, e.reasons
    FROM entries e JOIN reps r ON r.listed_subject_id = e.subject_id AND r.list_type = e.list_type
    CROSS JOIN roles
    WHERE e.role = 'org'
)
SELECT p.as_of, p.subject_id, p.subject_type, p.subject_name, p.role_name AS role,
       p.listed_subject_id, p.listed_subject_name, p.list_type, p.list_name,
       m.measure, m.department, p.withheld, p.reasons, m.measure_id AS rule_id
FROM people p
JOIN rule_measure m ON m.list_type = p.list_type AND m.role = p.role
ORDER BY p.listed_subject_id, p.list_type, p.role_name DESC, p.subject_id NULLS LAST, p.subject_name,
         m.measure_id;
