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
