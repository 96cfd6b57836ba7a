-- Repair preconditions and deciding body (issue 16): the repair row keeps what the rules check.
ALTER TABLE core.repair ADD COLUMN department VARCHAR;            -- department code that submitted the decision
ALTER TABLE core.repair ADD COLUMN obligation_fulfilled VARCHAR;  -- 是 | 否 (是否已履行法定义务)
ALTER TABLE core.repair ADD COLUMN commitment_made VARCHAR;       -- 是 | 否 (是否作出信用承诺)
ALTER TABLE core.repair ADD COLUMN training_and_report VARCHAR;   -- 是 | 否 | null (527号 serious penalties)
ALTER TABLE core.repair ADD COLUMN deciding_unit VARCHAR;         -- 修复决定单位 as written
ALTER TABLE core.objection ADD COLUMN department VARCHAR;         -- department code that submitted the objection
-- Every `bs-credit explain` of a subject, written before anything is shown (like audit.lookup).
CREATE TABLE audit.explain (
    explain_id    VARCHAR PRIMARY KEY,
    explained_at  TIMESTAMPTZ NOT NULL,
    operator      VARCHAR NOT NULL,
    purpose       VARCHAR NOT NULL,
    subject_token VARCHAR NOT NULL,           -- pseudonym of the subject, never the raw ID
    as_of         DATE NOT NULL,
    rows_shown    INTEGER NOT NULL            -- records of the subject shown
);
