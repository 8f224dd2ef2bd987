"""Steps on this machine's Spark, in the step's own process: a client session of a local
Spark Connect server (see :mod:`f1_pipeline.core.engine`)."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetCheckResult, AssetExecutionContext, AssetKey

from f1_pipeline.core.engine import (
    close,
    connect,
    current_private_server,
    private_server,
    reachable,
    server_for,
)
from f1_pipeline.core.spark import require_java
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
    """Steps on this machine's Spark: the warm Connect server when one runs (``remote``, its
    token in the environment, or the one ``f1-pipeline spark start`` recorded in
    ``connect_home``), else this process's private server (started on first use, reused by
    later steps; replaced, with a new session, if it died). Inputs and outputs move through a
    local staging directory."""

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
        self._warm: tuple[str, Any] | None = None  # (url, session) of a warm server

    def _warm_session(self, log: Any) -> Any | None:
        """A session of the warm server, if one runs and answers; None otherwise."""
        server = None if self.remote else server_for(self.connect_home)
        url = self.remote or (server.url if server else None)
        if url is None:
            return None
        if self._warm is not None and self._warm[0] == url and reachable(url):
            return self._warm[1]
        if self._warm is not None:
            close(self._warm[1])  # its server went away: never call it again
            self._warm = None
        if not reachable(url):
            log.warning(f"Spark: nothing answers at {url}; using a private server instead")
            return None
        try:
            session = connect(url, self.spark_config, server.token if server else None)
        except Exception as err:  # unreachable or wedged: never hang a run on it
            log.warning(
                f"Spark: the Connect server at {url} did not answer ({type(err).__name__}); "
                "using a private server instead"
            )
            return None
        log.info(f"Spark: the Connect server at {url}")
        self._warm = (url, session)
        return session

    def _session(self, log: Any) -> Any:
        warm = self._warm_session(log)
        if warm is not None:
            return warm
        running = current_private_server()
        fresh = running is None or not running.alive()
        if fresh:
            require_java()  # a setup problem: said once, never retried
        home = self.connect_home or Path(tempfile.gettempdir())
        server = private_server(self.spark_config, home / "logs" / "spark-private.log")
        session = server.session(self.spark_config)
        log.info(
            "Spark: this process's private server"
            + (" (started)" if fresh else "")
            + " (`f1-pipeline spark start` keeps a warm one)"
        )
        return session

    def run(self, context: AssetExecutionContext, step: str, params: Mapping[str, Any]) -> StepRun:
        result = StepRun()

        def report_check(outcome: CheckOutcome) -> None:
            result.checks.append(check_result(outcome))

        try:
            ctx = StepContext(
                storage=self.storage,
                spark=lambda: self._session(context.log),
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
