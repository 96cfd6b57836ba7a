"""Jobs and the nightly schedule."""

import dagster as dg

from .executors import executor
from .intake import staged_submissions
from .lists import AS_OF_TAG, analytics_snapshot, credit_lists, public_exports
from .warehouse import warehouse_records

# In process: a step in its own subprocess costs ~5 s and ~200 MB on this machine, against 1-3 s of real work.
intake_job = dg.define_asset_job(
    "intake_job", selection=[staged_submissions, warehouse_records], executor_def=executor(dg.in_process_executor),
    description="报送入库：校验某部门某月的报送文件并载入数据仓库。 | Intake one department × month and load it into "
    "the warehouse.",
)
nightly_job = dg.define_asset_job(
    "nightly_job", selection=[credit_lists, public_exports, analytics_snapshot], executor_def=executor(dg.in_process_executor),
    description="夜间任务：按计算日期重算全部名单、发布公开文件、重建分析快照；没有新数据也要运行，因为公示期会自然届满。 | "
    "Recompute every list as of the date, publish, rebuild the analyst snapshot. Runs even when no data arrived: "
    "display periods end by themselves.",
)


@dg.schedule(job=nightly_job, cron_schedule="0 2 * * *", execution_timezone="Asia/Shanghai",
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="每天北京时间 02:00 运行夜间任务，计算日期为当天。 | 02:00 Asia/Shanghai; the as-of date is the "
             "tick's calendar date in Shanghai.")
def nightly_schedule(context: dg.ScheduleEvaluationContext):
    """02:00 Asia/Shanghai; the as-of date is the tick's calendar date in Shanghai."""
    day = context.scheduled_execution_time.date().isoformat()
    return dg.RunRequest(run_key=day, tags={AS_OF_TAG: day})
