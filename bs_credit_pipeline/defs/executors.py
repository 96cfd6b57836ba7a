"""Which Dagster executor the jobs use: the one-machine defaults, or a cluster's (deploy/province/README.md).

BS_CREDIT_EXECUTOR, read when the code location loads:
- `local` (default): intake_job and nightly_job in process (one process per run, issue 18), intake_batch_job
  multiprocess with at most 2 steps at a time;
- `k8s`: every job with dagster_k8s.k8s_job_executor (each step a Kubernetes Job);
- `celery`: every job with dagster_celery.celery_executor (steps on Celery workers).
The cluster executors come from the optional `cluster` dependency group and are imported only when chosen; their
settings (image, namespace, broker...) are run configuration (`execution: config:`), not code.
"""

import os

import dagster as dg

from ..config import ConfigError

EXECUTOR_VAR = "BS_CREDIT_EXECUTOR"
CHOICES = ("local", "k8s", "celery")


def executor_name() -> str:
    name = os.environ.get(EXECUTOR_VAR, "").strip() or "local"
    if name not in CHOICES:
        raise ConfigError(f"环境变量 {EXECUTOR_VAR}={name!r} 无效：应为 {'、'.join(CHOICES)} 之一。",
                          f"{EXECUTOR_VAR}={name!r} is not one of {', '.join(CHOICES)}")
    return name


def executor(local: dg.ExecutorDefinition) -> dg.ExecutorDefinition:
    """`local` on one machine; the cluster executor BS_CREDIT_EXECUTOR names otherwise."""
    name = executor_name()
    if name == "k8s":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor
    if name == "celery":
        from dagster_celery import celery_executor

        return celery_executor
    return local
