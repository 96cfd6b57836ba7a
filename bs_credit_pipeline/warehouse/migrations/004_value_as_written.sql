-- Values as written (issue 15): intake stores the canonical value (an enum's standard wording, a multi-value cell
-- re-joined, 其他 for 其他-XXX, a 15-digit citizen ID as its 18-digit form, a domain's name) and keeps, per record
-- version, what the department wrote: {column: cell as written} for the changed cells only; NULL when nothing
-- was changed. Provenance like file_name and excel_row: not part of content_hash. Earlier versions stay NULL.
ALTER TABLE core.credit_record ADD COLUMN written MAP(VARCHAR, VARCHAR);
