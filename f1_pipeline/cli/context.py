"""What every command works with: the environment the CLI was started in (read once, at its
entry), the code location's Definitions built from it (once, on first use) and their
resources, and the Dagster home."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from f1_pipeline.core.spark import Engine
from f1_pipeline.core.storage import open_storage
from f1_pipeline.core.storage.root import DATA_ROOT_DEFAULT, DATA_ROOT_VAR, parse_data_root
from f1_pipeline.core.upload import source_bytes

if TYPE_CHECKING:
    from dagster import DagsterInstance, Definitions

    from f1_pipeline.core.storage import Storage

DEFAULT_HOME = ".dagster"


@dataclass
class Cli:
    env: Mapping[str, str]  # the command line's environment, read once at its entry

    @property
    def home(self) -> Path:
        return Path(self.env.get("DAGSTER_HOME") or DEFAULT_HOME).resolve()

    @cached_property
    def defs(self) -> Definitions:
        from f1_pipeline.definitions import build_definitions

        return build_definitions(self.env)

    def resource(self, key: str) -> Any:
        return (self.defs.resources or {})[key]

    @property
    def storage(self) -> Storage:
        from f1_pipeline.defs.constants import STORAGE_KEY

        return self.resource(STORAGE_KEY).get()

    @property
    def step_runner(self) -> Any:
        from f1_pipeline.defs.constants import STEP_RUNNER_KEY

        return self.resource(STEP_RUNNER_KEY)

    def spark_engine(self) -> Engine:
        return self.step_runner.spark.engine()

    def spark_ahead(self) -> None:
        """For a command about to run the pipeline in this process: its JVM starts now,
        before Dagster is even imported (:func:`f1_pipeline.core.spark.start_ahead`)."""
        from f1_pipeline.core import spark

        if self.env.get(spark.MODE_VAR, "local").strip() == "local":
            spark.start_ahead(self.env, _source_bytes(self.env))

    @property
    def dagster_url(self) -> str:
        from f1_pipeline.defs.constants import ALERTS_KEY

        return str(self.resource(ALERTS_KEY).ui_url)

    def instance(self) -> DagsterInstance:
        from f1_pipeline.defs.instance import open_instance

        return open_instance(self.home, self.env)


def _source_bytes(env: Mapping[str, str]) -> int | None:
    """The size of a local root's upload (an S3 root's is read by the run itself)."""
    try:
        root = parse_data_root(env.get(DATA_ROOT_VAR) or DATA_ROOT_DEFAULT)
    except ValueError:
        return None
    return source_bytes(open_storage(root)) if isinstance(root, Path) else None
