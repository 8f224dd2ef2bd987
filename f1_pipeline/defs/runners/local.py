"""Steps on this machine's Spark, in the run's own process: the session the Spark resource
chooses (a Connect client of the warm engine, or the run's own), made on first use."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dagster import AssetCheckResult, AssetExecutionContext, AssetKey

from f1_pipeline.core import upload
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
    """Steps on the session ``session`` makes (called on a step's first Spark action only: a
    step with nothing to compute starts no Spark). Inputs and outputs move through a local
    staging directory."""

    mode = "local"

    def __init__(self, storage: Storage, session: Callable[[Any, int | None], Any]) -> None:
        self.storage, self.session = storage, session

    def run(self, context: AssetExecutionContext, step: str, params: Mapping[str, Any]) -> StepRun:
        result = StepRun()

        def report_check(outcome: CheckOutcome) -> None:
            result.checks.append(check_result(outcome))

        try:
            ctx = StepContext(
                storage=self.storage,
                spark=lambda: self.session(context.log, self.source_bytes()),
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

    def source_bytes(self) -> int | None:
        return upload.source_bytes(self.storage)
