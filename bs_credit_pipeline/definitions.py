"""Dagster definitions, loaded through workspace.yaml. This layer only wires the plain modules."""

import dagster as dg

from .paths import owner_only_files

from .defs.batch import intake_batch_job
from .defs.intake import rows_accounted_for, staged_submissions, submission_accepted
from .defs.jobs import intake_job, nightly_job, nightly_schedule
from .defs.lists import (analytics_snapshot, credit_lists, every_entry_explained, no_raw_ids_in_snapshot,
                         no_raw_ids_published, public_exports, watch_causes_classified)
from .defs.resources import PipelineResource
from .defs.sensors import inbox_sensor
from .defs.warehouse import manifests_agree, one_current_version_per_record, subject_ids_valid, warehouse_records

owner_only_files()  # the code server and the runs it launches write raw data: owner-only (paths.py)

defs = dg.Definitions(
    assets=[staged_submissions, warehouse_records, credit_lists, public_exports, analytics_snapshot],
    asset_checks=[rows_accounted_for, submission_accepted, one_current_version_per_record, subject_ids_valid, manifests_agree,
                  every_entry_explained, watch_causes_classified, no_raw_ids_published, no_raw_ids_in_snapshot],
    jobs=[intake_job, intake_batch_job, nightly_job],
    schedules=[nightly_schedule],
    sensors=[inbox_sensor],
    resources={"pipeline": PipelineResource()},
)
