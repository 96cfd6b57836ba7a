-- Warehouse schema v1. Public contract for analysts: see docs/WAREHOUSE.md. Never edit a released
-- migration; add the next numbered file instead.
CREATE SCHEMA IF NOT EXISTS ops;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS mart;
CREATE SCHEMA IF NOT EXISTS audit;

CREATE TABLE ops.schema_version (
    version     INTEGER PRIMARY KEY,
    applied_at  TIMESTAMPTZ NOT NULL
);

-- One row per received file (a resubmission of the same department and month is a new row).
CREATE TABLE ops.submission (
    submission_id   VARCHAR PRIMARY KEY,      -- department|month|sha256
    department      VARCHAR NOT NULL,
    month           VARCHAR NOT NULL,         -- YYYY-MM
    file_name       VARCHAR NOT NULL,
    sha256          VARCHAR NOT NULL,
    kind            VARCHAR,                  -- null when the kind could not be detected
    format          VARCHAR,
    received_at     TIMESTAMPTZ,
    processed_at    TIMESTAMPTZ,
    status          VARCHAR NOT NULL,         -- accepted | partial | rejected | superseded
    rows_read       BIGINT NOT NULL,
    rows_loaded     BIGINT NOT NULL,
    rows_rejected   BIGINT NOT NULL,
    rows_skipped    BIGINT NOT NULL,
    file_error_code VARCHAR,
    file_error      VARCHAR,                  -- Chinese message
    error_counts    JSON,
    dropped_columns JSON,
    hidden_sheets   JSON,
    report_path     VARCHAR,
    loaded_at       TIMESTAMPTZ               -- when its rows entered core.credit_record
);

-- One row per problem found in a submitted file.
CREATE TABLE ops.rejected_row (
    submission_id VARCHAR NOT NULL,
    department    VARCHAR NOT NULL,
    month         VARCHAR NOT NULL,
    sheet         VARCHAR,
    excel_row     INTEGER,
    excel_column  VARCHAR,
    column_name   VARCHAR,
    header        VARCHAR,
    raw_value     VARCHAR,
    code          VARCHAR NOT NULL,
    severity      VARCHAR NOT NULL,           -- error | warning
    message       VARCHAR NOT NULL,
    hint          VARCHAR
);

-- One row per credit subject.
CREATE TABLE core.subject (
    subject_id     VARCHAR NOT NULL,          -- USCC, 18-digit citizen ID, or ORG:/REG: legacy key (unique; no
                                              -- PRIMARY KEY: an ART index on millions of keys slows every load)
    subject_type   VARCHAR NOT NULL,          -- org | person
    canonical_name VARCHAR NOT NULL,
    name_variants  VARCHAR[] NOT NULL,
    org_code       VARCHAR,                   -- 9-char GB 11714 code (orgs)
    uscc_prefix    VARCHAR,                   -- first 2 chars of the USCC: 11 government organ, 91 enterprise, ...
    division_code  VARCHAR,                   -- 6-digit admin division from the USCC or citizen ID
    first_seen     DATE NOT NULL,             -- earliest record date
    last_seen      DATE NOT NULL,
    merged_into    VARCHAR                    -- a legacy key later linked to a USCC points to it
);

-- One row per record version. The current version of a record has valid_to IS NULL.
CREATE TABLE core.credit_record (
    version_id      VARCHAR NOT NULL,         -- record_id|version (unique by construction; no PRIMARY KEY:
                                              -- the ART index made 1 M-row inserts 4-6x slower)
    record_id       VARCHAR NOT NULL,         -- sha256(natural key)[:32], stable across resubmissions
    version         INTEGER NOT NULL,
    kind            VARCHAR NOT NULL,
    domain          VARCHAR,
    subject_id      VARCHAR NOT NULL,
    subject_type    VARCHAR NOT NULL,
    subject_name    VARCHAR NOT NULL,
    record_date     DATE,                     -- decision / listing / award date
    end_date        DATE,                     -- explicit end (公示截止期, 移出日期, 有效期至, 撤销时间)
    category        VARCHAR,                  -- kind-specific category (处罚类别, 失信情形, 荣誉类型 ...)
    severity        VARCHAR,                  -- 轻微 | 一般 | 严重 when the contract has it
    legal_rep_name  VARCHAR,
    legal_rep_id    VARCHAR,
    payload         JSON NOT NULL,            -- every contract column, canonical names
    content_hash    VARCHAR NOT NULL,
    department      VARCHAR NOT NULL,
    month           VARCHAR NOT NULL,
    submission_id   VARCHAR NOT NULL,
    file_sha256     VARCHAR NOT NULL,
    file_name       VARCHAR NOT NULL,
    sheet           VARCHAR,
    excel_row       INTEGER,
    valid_from      TIMESTAMPTZ NOT NULL,
    valid_to        TIMESTAMPTZ,              -- set when superseded by a correction or withdrawn
    change_reason   VARCHAR                   -- new | corrected | reinstated (came back after a withdrawal);
                                              -- a closed version dropped by a resubmission: withdrawn
);

-- Credit repair decisions (from the credit office's 信用修复 submissions), applied nightly.
CREATE TABLE core.repair (
    repair_id      VARCHAR PRIMARY KEY,
    record_id      VARCHAR,                   -- null until matched
    subject_id     VARCHAR,
    target_kind    VARCHAR,
    target_ref     VARCHAR,                   -- decision number / case number named in the request
    received_date  DATE,
    decided_date   DATE,
    outcome        VARCHAR,                   -- 修复 | 不予修复
    reason         VARCHAR,
    status         VARCHAR,                   -- granted | refused | unmatched (set by the nightly rules)
    status_reason  VARCHAR,
    submission_id  VARCHAR NOT NULL,
    sheet          VARCHAR,
    excel_row      INTEGER
);

-- Objections (异议), applied nightly.
CREATE TABLE core.objection (
    objection_id   VARCHAR PRIMARY KEY,
    record_id      VARCHAR,
    subject_id     VARCHAR,
    target_kind    VARCHAR,
    target_ref     VARCHAR,
    received_date  DATE,
    decided_date   DATE,                      -- null while pending
    outcome        VARCHAR,                   -- 更正 | 删除 | 维持 | null (pending)
    reason         VARCHAR,
    submission_id  VARCHAR NOT NULL,
    sheet          VARCHAR,
    excel_row      INTEGER
);

-- Every authorised look-up of a named subject's records, written before anything is shown.
CREATE TABLE audit.lookup (
    lookup_id     VARCHAR PRIMARY KEY,
    looked_up_at  TIMESTAMPTZ NOT NULL,
    operator      VARCHAR NOT NULL,
    purpose       VARCHAR NOT NULL,
    subject_token VARCHAR NOT NULL,           -- pseudonym of the subject looked up, never the raw ID
    rows_shown    INTEGER NOT NULL
);
