"""The one resource: where the pipeline's files live (BS_CREDIT_HOME) and the data contracts."""

from functools import cached_property

import dagster as dg

from ..contracts import Registry
from ..paths import Home


class PipelineResource(dg.ConfigurableResource):
    """BS_CREDIT_HOME (empty: the environment variable, else ./var) and the contract registry."""

    home_dir: str = ""

    @cached_property
    def home(self) -> Home:
        return Home.from_env(self.home_dir or None).ensure()

    @cached_property
    def registry(self) -> Registry:
        return Registry.load()
