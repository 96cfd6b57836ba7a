"""SQL fragments shared by the list builders (all read mart.record_status of the current as_of)."""

from __future__ import annotations

# A record holds a sanction-list entry when active, or when withheld by an objection received after it was
# already listed (record date before the objection): the entry stays on internal lists, unpublished.
# A withheld record never creates a new entry.
LISTABLE = """(rs.status = 'active' OR (rs.status = 'withheld' AND rs.record_date < os.pending_since))"""
OBJECTION_JOIN = "LEFT JOIN temp_objection_state os ON os.record_id = rs.record_id"

REASON_ITEM = (
    "{'record_id': rs.record_id, 'kind': rs.kind, 'department': rs.department, 'file_name': rs.file_name,"
    " 'sheet': rs.sheet, 'excel_row': rs.excel_row, 'rule': rs.rule_id}"
)
# the items ordered by (record_date, record_id): list_sort over struct keys (NULLS LAST, like ORDER BY) is
# the same order as list(... ORDER BY ...), and far cheaper with many small groups
REASONS = ("to_json(list_transform(list_sort(list("
           f"{{'d': rs.record_date, 'r': rs.record_id, 'i': to_json({REASON_ITEM})}})), lambda x: x.i))")
# the subject's name and type on its latest record (ties broken by record_id: deterministic)
LATEST_NAME = "arg_max(rs.subject_name, {'d': rs.record_date, 'r': rs.record_id})"
LATEST_TYPE = "arg_max(rs.subject_type, {'d': rs.record_date, 'r': rs.record_id})"
