"""Jobs and the nightly schedule."""

import dagster as dg

from .intake import staged_submissions
from .lists import AS_OF_TAG, analytics_snapshot, credit_lists, public_exports
from .warehouse import warehouse_records

intake_job = dg.define_asset_job(
    "intake_job", selection=[staged_submissions, warehouse_records],
    description="Intake one department × month and load it into the warehouse.",
)
nightly_job = dg.define_asset_job(
    "nightly_job", selection=[credit_lists, public_exports, analytics_snapshot],
    description="Recompute every list as of the date, publish, rebuild the analyst snapshot. Runs even when no data "
    "arrived: display periods end by themselves.",
)


@dg.schedule(job=nightly_job, cron_schedule="0 2 * * *", execution_timezone="Asia/Shanghai",
             default_status=dg.DefaultScheduleStatus.RUNNING)
def nightly_schedule(context: dg.ScheduleEvaluationContext):
    """02:00 Asia/Shanghai; the as-of date is the tick's calendar date in Shanghai."""
    day = context.scheduled_execution_time.date().isoformat()
    return dg.RunRequest(run_key=day, tags={AS_OF_TAG: day})
