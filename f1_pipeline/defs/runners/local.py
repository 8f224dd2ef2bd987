"""Steps on the local Spark session, in the step's own process."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetCheckResult, AssetExecutionContext, AssetKey
from dagster_pyspark import LazyPySparkResource

from f1_pipeline.core.engine import connect, reachable, running_server
from f1_pipeline.core.spark import (
    forget_dead_session,
    require_java,
    session_alive,
    use_classic_mode,
)
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
    """Steps on this machine's Spark: the warm Spark Connect server when one runs (``remote``,
    or the one ``f1-pipeline spark start`` recorded in ``connect_home``), else
    dagster-pyspark's lazy embedded session (created on first use, reused by later steps in
    the process). Inputs and outputs move through a local staging directory."""

    mode = "local"

    def __init__(
        self,
        storage: Storage,
        spark_config: Mapping[str, str],
        remote: str | None = None,
        connect_home: Path | None = None,
    ) -> None:
        self.storage = storage
        self.spark_config = dict(spark_config)
        self.remote, self.connect_home = remote, connect_home
        self.pyspark = LazyPySparkResource(spark_config=self.spark_config)
        self._connected: Any = None

    def _server_url(self) -> str | None:
        if self.remote:
            return self.remote
        server = running_server(self.connect_home) if self.connect_home else None
        return server.url if server else None

    def _session(self, log: Any) -> Any:
        """The warm server's session when there is one; else the process's embedded session,
        a new one if its JVM has died (a retry would otherwise fail again on the dead one)."""
        if self._connected is not None and session_alive(self._connected):
            return self._connected
        url = self._server_url()
        if url and not reachable(url):
            log.warning(f"Spark: nothing answers at {url}; using an embedded session instead")
        elif url:
            try:
                self._connected = connect(url, self.spark_config)
                log.info(f"Spark: the Connect server at {url}")
                return self._connected
            except Exception as err:  # unreachable or wedged: never hang a run on it
                log.warning(
                    f"Spark: the Connect server at {url} did not answer ({type(err).__name__});"
                    " using an embedded session instead"
                )
        use_classic_mode()
        from pyspark import SparkContext

        if SparkContext._active_spark_context is None:
            require_java()  # a setup problem: said once, never retried
        session = self.pyspark.spark_session
        if not session_alive(session):
            forget_dead_session()
            self.pyspark = LazyPySparkResource(spark_config=self.spark_config)
            session = self.pyspark.spark_session
        log.info("Spark: embedded session (`f1-pipeline spark start` keeps a warm one)")
        return session

    def run(self, context: AssetExecutionContext, step: str, params: Mapping[str, Any]) -> StepRun:
        result = StepRun()

        def report_check(outcome: CheckOutcome) -> None:
            result.checks.append(check_result(outcome))

        try:
            ctx = StepContext(
                storage=self.storage,
                session=self._session(context.log),
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
