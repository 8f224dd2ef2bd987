"""Steps on the local Spark session, in the step's own process."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import AssetCheckResult, AssetExecutionContext, AssetKey
from dagster_pyspark import LazyPySparkResource

from f1_pipeline.core.spark import forget_dead_session, session_alive
from f1_pipeline.core.steps import CheckOutcome, StepContext, run_step
from f1_pipeline.core.steps.io import LocalStagedIO
from f1_pipeline.core.storage import Storage
from f1_pipeline.defs.metadata import to_dagster
from f1_pipeline.defs.runners.base import StepRun, StepRunner


def check_result(outcome: CheckOutcome) -> AssetCheckResult:
    return AssetCheckResult(
        asset_key=AssetKey.from_user_string(outcome.asset),
        check_name=outcome.name,
        passed=outcome.passed,
        metadata=to_dagster(outcome.metadata),
    )


class LocalSpark(StepRunner):
    """dagster-pyspark's lazy session (created on first use, reused by later steps in the
    process); inputs and outputs move through a local staging directory."""

    mode = "local"

    def __init__(self, storage: Storage, spark_config: Mapping[str, str]) -> None:
        self.storage = storage
        self.pyspark = LazyPySparkResource(spark_config=dict(spark_config))

    def _session(self) -> Any:
        """The process's session; a new one if the cached session's JVM has died (a retry
        would otherwise fail again on the dead one)."""
        session = self.pyspark.spark_session
        if session_alive(session):
            return session
        forget_dead_session()
        self.pyspark = LazyPySparkResource(spark_config=self.pyspark.spark_config)
        return self.pyspark.spark_session

    def run(self, context: AssetExecutionContext, step: str, params: Mapping[str, Any]) -> StepRun:
        result = StepRun()

        def report_check(outcome: CheckOutcome) -> None:
            result.checks.append(check_result(outcome))

        try:
            ctx = StepContext(
                storage=self.storage,
                session=self._session(),
                io=LocalStagedIO(self.storage),
                log=context.log,
                run_id=context.run.run_id,
                report_check=report_check,
            )
            done = run_step(step, ctx, params)
        except Exception as err:
            result.error = err
            return result
        result.materializations = {
            asset: {**to_dagster(metadata), "spark_mode": self.mode}
            for asset, metadata in done.materializations.items()
        }
        result.data = dict(done.data)
        return result
