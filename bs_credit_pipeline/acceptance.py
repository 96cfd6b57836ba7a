"""Whether a department × month submission was accepted: the rule behind the `submission_accepted` check."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Acceptance:
    passed: bool
    files: int
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    files_rejected_whole: int
    reject_rate: float | None
    reason: str  # Chinese, for the operator; no personal data


def judge(manifests: list[dict], max_reject_rate: float) -> Acceptance:
    """Failed when the partition has files and loaded no row (every row rejected, or every file rejected as a
    whole), or when it rejected more than `max_reject_rate` of the rows it read. A partition without files
    (an emptied folder) passes: there is nothing to accept."""
    read = sum(m.get("rows_read", 0) for m in manifests)
    loaded = sum(m.get("rows_loaded", 0) for m in manifests)
    rejected = sum(m.get("rows_rejected", 0) for m in manifests)
    whole = sum(1 for m in manifests if m.get("file_error"))
    rate = rejected / read if read else None
    if manifests and loaded == 0:
        passed = False
        reason = (f"读取 {read} 行，全部退回，未入库任何数据" if read else f"{whole} 个文件均被整体退回，未入库任何数据")
    elif rate is not None and rate > max_reject_rate:
        passed, reason = False, f"退回比例 {rate:.1%} 超过上限 {max_reject_rate:.0%}"
    else:
        passed = True
        reason = "已入库" if manifests else "无报送文件"
    return Acceptance(passed, len(manifests), read, loaded, rejected, whole,
                      None if rate is None else round(rate, 4), reason)
