"""Department × month partitions: the Dagster UI's grid of who submitted what."""

import dagster as dg

from ..contracts import Registry

MONTH_FORMAT = "%Y-%m"

department_partitions = dg.StaticPartitionsDefinition(sorted(Registry.load().departments))
# end_offset=1: the current month is open for submissions, not only months that have ended.
month_partitions = dg.MonthlyPartitionsDefinition(
    start_date="2018-01", fmt=MONTH_FORMAT, timezone="Asia/Shanghai", end_offset=1
)
department_month = dg.MultiPartitionsDefinition({"department": department_partitions, "month": month_partitions})


def partition_key(department: str, month: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"department": department, "month": month})


DEPARTMENT_NAME_TAG, MONTH_TAG = "bs_credit/department_name", "bs_credit/month"


def partition_tags(registry, department: str, month: str) -> dict[str, str]:
    """Run tags naming the partition for people: the department's Chinese name and the month."""
    dept = registry.departments.get(department)
    return {DEPARTMENT_NAME_TAG: dept.name if dept else department, MONTH_TAG: month}
