"""Steps as AWS Glue job runs, launched and followed through Dagster Pipes.

The job runs :mod:`f1_pipeline.glue.entry`, which runs the same step functions as
:class:`~f1_pipeline.defs.runners.local.LocalSpark`. Pipes context goes to the job through S3
(``pipes/context/``) and its logs, check results and materialisation come back through S3
(``pipes/messages/``), so no CloudWatch access is needed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    Failure,
    MaterializeResult,
    MetadataValue,
    PipesMessageHandler,
)
from dagster_aws.pipes import PipesGlueClient, PipesS3ContextInjector, PipesS3MessageReader

from f1_pipeline.core.storage import S3Root, layout
from f1_pipeline.core.storage.s3 import S3Storage
from f1_pipeline.defs.failures import BAD_INPUT_METADATA, is_bad_input_message
from f1_pipeline.defs.runners.base import StepRun, StepRunner

# Every state a Glue job run ends in (https://docs.aws.amazon.com/glue/latest/dg/job-run-statuses.html).
# PipesGlueClient's own loop (dagster-aws 0.29) lacks EXPIRED and would poll such a run forever.
TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT", "ERROR", "EXPIRED"})


class GlueWaitExceeded(RuntimeError):
    """A job run did not end within the configured wait; it was asked to stop."""


class F1PipesGlueClient(PipesGlueClient):
    """dagster-aws's PipesGlueClient (start, Pipes session, stop on interruption, run
    metadata), with a wait loop that ends on every terminal state, polls at a chosen pace
    and gives up, stopping the job run, after ``max_wait_seconds``."""

    def __init__(self, *, poll_seconds: float, max_wait_seconds: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.poll_seconds = poll_seconds
        self.max_wait_seconds = max_wait_seconds

    def _wait_for_job_run_completion(self, job_name: str, run_id: str) -> Any:
        deadline = time.monotonic() + self.max_wait_seconds
        while True:
            response = self._client.get_job_run(JobName=job_name, RunId=run_id)
            state = response["JobRun"]["JobRunState"]
            if state in TERMINAL_STATES:
                return response
            if time.monotonic() >= deadline:
                self._client.batch_stop_job_run(JobName=job_name, JobRunIds=[run_id])
                raise GlueWaitExceeded(
                    f"Glue job {job_name} run {run_id} still {state} after "
                    f"{self.max_wait_seconds:.0f}s; asked it to stop"
                )
            time.sleep(self.poll_seconds)


class PrefixedS3MessageReader(PipesS3MessageReader):
    """PipesS3MessageReader writing under ``key_prefix`` (the job's IAM role may write
    ``pipes/`` only), deleting the chunks once the session has read them. Keeps the
    session's message handler, so what a failed job reported (e.g. the check that failed)
    can still be shown."""

    def __init__(self, *, key_prefix: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.key_prefix = key_prefix
        self.handler: PipesMessageHandler | None = None

    @contextmanager
    def read_messages(self, handler: PipesMessageHandler) -> Iterator[Mapping[str, Any]]:
        self.handler = handler
        with super().read_messages(handler) as params:
            yield params

    def reported_checks(self) -> list[AssetCheckResult]:
        reported = self.handler.get_reported_results() if self.handler else []
        return [r for r in reported if isinstance(r, AssetCheckResult)]

    @contextmanager
    def get_params(self) -> Iterator[dict[str, Any]]:
        with super().get_params() as params:
            params = {**params, "key_prefix": f"{self.key_prefix}{params['key_prefix']}"}
            try:
                yield params
            finally:
                self._delete_chunks(params["key_prefix"])

    def _delete_chunks(self, prefix: str) -> None:
        # Best effort: leftovers expire with the bucket's pipes/ lifecycle rule.
        with suppress(BotoCoreError, ClientError):
            S3Storage(lambda: self.client, self.bucket).delete_prefix(f"{prefix}/")


class GlueSpark(StepRunner):
    """Each step is one run of the Glue job ``job_name``; boto3 clients come from the given
    factories on first use (no region or network needed to build the definitions)."""

    mode = "glue"

    def __init__(
        self,
        *,
        job_name: str,
        data_root: S3Root,
        glue_client: Callable[[], Any],
        s3_client: Callable[[], Any],
        poll_seconds: float = 5.0,
        max_wait_seconds: float = 2 * 3600,
    ) -> None:
        self.job_name = job_name
        self.data_root = data_root
        self._glue_client = glue_client
        self._s3_client = s3_client
        self.poll_seconds = poll_seconds
        self.max_wait_seconds = max_wait_seconds

    def pipes_client(self) -> tuple[F1PipesGlueClient, PrefixedS3MessageReader]:
        s3, root = self._s3_client(), self.data_root
        pipes = f"{root.prefix}{layout.PIPES_PREFIX}"
        reader = PrefixedS3MessageReader(
            bucket=root.bucket,
            client=s3,
            key_prefix=f"{pipes}messages/",
            interval=min(self.poll_seconds, 10.0),
        )
        client = F1PipesGlueClient(
            context_injector=PipesS3ContextInjector(
                bucket=root.bucket, client=s3, key_prefix=f"{pipes}context/"
            ),
            message_reader=reader,
            client=self._glue_client(),
            poll_seconds=self.poll_seconds,
            max_wait_seconds=self.max_wait_seconds,
        )
        return client, reader

    def run(self, context: AssetExecutionContext, step: str, params: Mapping[str, Any]) -> StepRun:
        extras = {"f1_step": step, "f1_params": dict(params), "f1_data_root": str(self.data_root)}
        client, reader = self.pipes_client()
        try:
            invocation = client.run(
                context=context,
                start_job_run_params={"JobName": self.job_name, "Arguments": {}},
                extras=extras,
            )
        except RuntimeError as err:
            # PipesGlueClient raises RuntimeError for a run that ended other than SUCCEEDED;
            # its message carries the state and Glue's ErrorMessage. Bad data or a failed
            # check fails the job the same way: retrying would not help.
            if not str(err).startswith("Glue job"):
                raise
            failure = Failure(
                description=str(err),
                allow_retries=False,
                metadata={BAD_INPUT_METADATA: is_bad_input_message(str(err))},
            )
            failure.__cause__ = err
            return StepRun(checks=reader.reported_checks(), error=failure)
        result = StepRun()
        messages = invocation.get_custom_messages()
        for message in messages:
            result.data.update(message.get("data", {}))
        for item in invocation.get_results(implicit_materializations=False):
            if isinstance(item, AssetCheckResult):
                result.checks.append(item)
            elif isinstance(item, MaterializeResult) and item.asset_key is not None:
                metadata = {**(item.metadata or {}), "spark_mode": MetadataValue.text(self.mode)}
                result.materializations[item.asset_key.to_user_string()] = metadata
        if not result.materializations or not messages:
            raise Failure(
                description=f"Glue job {self.job_name} succeeded but did not report step "
                f"{step}'s materialisation and data through Pipes: is the deployed code "
                "current (`f1-pipeline glue deploy`)?",
                allow_retries=False,
            )
        return result
