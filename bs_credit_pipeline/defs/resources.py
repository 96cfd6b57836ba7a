"""The resources: where the pipeline's files live (BS_CREDIT_HOME) and the data contracts; the Spark engine's
session."""

from functools import cached_property
from pathlib import Path

import dagster as dg

from ..config import ConfigError, check_configuration
from ..contracts import Registry
from ..paths import Home


class PipelineResource(dg.ConfigurableResource):
    """BS_CREDIT_HOME (empty: the environment variable, else ./var) and the contract registry."""

    home_dir: str = ""

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Before a run does any work: check the configuration (a mistake fails the run with the same one-line
        message `bs-credit` prints, not a stack trace), and tag the run with the process executing it, so that a
        later process can free what the run holds if this process is killed (defs/run.py: reap_dead_runs)."""
        from .run import process_tags

        if context.run is None:  # a sensor's or schedule's evaluation: it says so itself (a skip reason)
            return
        try:
            check_configuration(Home.from_env(self.home_dir or None))
        except ConfigError as exc:
            raise dg.Failure(description=exc.line(), allow_retries=False) from None
        if context.instance is not None:
            context.instance.add_run_tags(context.run.run_id, process_tags())

    @cached_property
    def home(self) -> Home:
        return Home.from_env(self.home_dir or None).ensure()

    @cached_property
    def registry(self) -> Registry:
        return Registry.load()


def spark_resource(work_dir: Path):
    """The nightly lists' Spark session as a dagster-pyspark resource: BS_CREDIT_SPARK_MASTER and the session
    settings the list SQL needs (engines/spark.session_conf). Only with BS_CREDIT_ENGINE=spark: pyspark is the
    optional `spark` group, so the resource is not in the Definitions (which load without it); the Spark branch
    of credit_lists initialises it for its step with `process_config_and_initialize_cm`."""
    from dagster_pyspark import PySparkResource

    from ..config import spark_master
    from ..engines.spark import session_conf

    return PySparkResource(spark_config=session_conf(spark_master(), work_dir))
