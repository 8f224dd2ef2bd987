"""Steps as AWS Glue job runs, launched and followed through a Dagster Pipes session.

The job runs :mod:`f1_pipeline.glue.entry`, which runs the same step functions as
:class:`~f1_pipeline.defs.runners.local.LocalSpark`. Pipes context goes to the job through S3
(``pipes/context/``) and its logs, check results and materialisation come back through S3
(``pipes/messages/``), so no CloudWatch access is needed. The session is Dagster's public
``open_pipes_session``; starting, following and stopping the job run is :class:`JobRun`'s
(one job run per step, always), and a run that did not succeed is classified from structured
data (:func:`classify`), not from Glue's free-text message.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    DagsterEventType,
    Failure,
    MaterializeResult,
    MetadataValue,
    open_pipes_session,
)
from dagster_aws.pipes import PipesS3ContextInjector, PipesS3MessageReader

from f1_pipeline.core.storage import S3Root, layout
from f1_pipeline.core.storage.s3 import S3Storage
from f1_pipeline.defs.failures import BAD_INPUT_METADATA, HELD_METADATA, TransientFailure
from f1_pipeline.defs.runners.base import StepRun, StepRunner
from f1_pipeline.defs.runners.glue_job import JobRun, job_run_metadata
from f1_pipeline.glue.deploy import CODE_VERSIONS_ARG

# The exception classes a job run reports through Pipes when the data is refused or held:
# never retried.
_REFUSED = {"InvalidInputError", "ChecksFailed", "UploadHeld", "ObjectNotFound"}
_HELD = {"UploadHeld"}
# Job code errors worth another job run (the same faults is_transient knows locally).
_TRANSIENT_ERRORS = {
    "ObjectChanged", "EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError",
    "ConnectionClosedError", "RetriesExceededError", "Py4JNetworkError",
}  # fmt: skip
# Job run states worth another job run: Glue's own fault, or a run that waited in Glue's
# queue past its limit. TIMEOUT (the job's own limit) and STOPPED (a person) are not.
_TRANSIENT_STATES = {"ERROR", "EXPIRED"}


def classify(state: str, error_class: str | None, glue_message: str | None) -> tuple[str, bool]:
    """How a job run that did not succeed ends the step, from structured data: its
    ``JobRunState`` and the exception class the job reported through Pipes. Returns
    (``"refused"`` | ``"held"`` | ``"transient"`` | ``"failed"``, whether it is retryable)."""
    if error_class in _HELD:
        return "held", False
    if error_class in _REFUSED:
        return "refused", False
    if error_class in _TRANSIENT_ERRORS or state in _TRANSIENT_STATES:
        return "transient", True
    # A job that died without closing Pipes reported no exception: Glue's message is all
    # there is, and the one case worth a retry is an executor or worker lost to the cluster.
    if error_class is None and state == "FAILED" and "lost" in (glue_message or "").lower():
        return "transient", True
    return "failed", False


class DeletingS3ContextInjector(PipesS3ContextInjector):
    """PipesS3ContextInjector that removes the context object however the step ends (the
    original removes it only after a step that succeeded)."""

    @contextmanager
    def inject_context(self, context: Any) -> Iterator[Any]:
        params: Mapping[str, Any] = {}
        try:
            with super().inject_context(context) as params:
                yield params
        finally:
            if params.get("key"):
                with suppress(BotoCoreError, ClientError):
                    self.client.delete_object(Bucket=self.bucket, Key=params["key"])


class PrefixedS3MessageReader(PipesS3MessageReader):
    """PipesS3MessageReader writing under ``key_prefix`` (the job's IAM role may write
    ``pipes/`` only), deleting the chunks once the session has read them."""

    def __init__(self, *, key_prefix: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.key_prefix = key_prefix

    @contextmanager
    def get_params(self) -> Iterator[dict[str, Any]]:
        with super().get_params() as params:
            prefix = f"{self.key_prefix}{params['key_prefix']}"
            try:
                yield {**params, "key_prefix": prefix}
            finally:  # best effort: leftovers expire with the bucket's pipes/ lifecycle rule
                with suppress(BotoCoreError, ClientError):
                    S3Storage(lambda: self.client, self.bucket).delete_prefix(f"{prefix}/")


# The deployed job's code versions, read from the job at most this often (sensors ask every
# tick; kept per process, outside the per-tick resource objects).
_JOB_CODE_TTL_SECONDS = 60.0
_JOB_CODE: dict[str, tuple[float, dict[str, str] | None]] = {}


@dataclass(kw_only=True, eq=False)
class GlueSpark(StepRunner):
    """Each step is one run of the Glue job ``job_name``, through a Dagster Pipes session
    (context in, messages back through S3); boto3 clients come from the given factories on
    first use (no region or network needed to build the definitions)."""

    mode = "glue"
    job_name: str
    data_root: S3Root
    glue_client: Callable[[], Any]
    s3_client: Callable[[], Any]
    poll_seconds: float = 5.0
    max_wait_seconds: float = 2 * 3600

    def code_versions(self) -> dict[str, str] | None:
        """The code versions of the deployed wheel (``glue deploy`` records them on the job);
        None when the job does not say (deployed by an older version)."""
        now = time.monotonic()
        cached = _JOB_CODE.get(self.job_name)
        if cached and now - cached[0] < _JOB_CODE_TTL_SECONDS:
            return cached[1]
        job = self.glue_client().get_job(JobName=self.job_name)["Job"]
        raw = job.get("DefaultArguments", {}).get(CODE_VERSIONS_ARG)
        versions = json.loads(raw) if raw else None
        _JOB_CODE[self.job_name] = (now, versions)
        return versions

    def run(self, context: AssetExecutionContext, step: str, params: Mapping[str, Any]) -> StepRun:
        extras = {"f1_step": step, "f1_params": dict(params), "f1_data_root": str(self.data_root)}
        pipes = f"{self.data_root.prefix}{layout.PIPES_PREFIX}"
        s3 = {"bucket": self.data_root.bucket, "client": self.s3_client()}
        injector = DeletingS3ContextInjector(**s3, key_prefix=f"{pipes}context/")
        interval = min(self.poll_seconds, 5.0)
        reader = PrefixedS3MessageReader(**s3, key_prefix=f"{pipes}messages/", interval=interval)
        client = self.glue_client()
        job = JobRun(client, self.job_name, self.poll_seconds, self.max_wait_seconds, context.log)
        since = time.time()
        try:
            with open_pipes_session(
                context=context, context_injector=injector, message_reader=reader, extras=extras
            ) as session:
                job.start(session.get_bootstrap_cli_arguments())
                ended = job.wait()
        except BaseException as err:
            job.stop_unfinished(err)
            raise
        cost = job_run_metadata(ended, client.meta.region_name)
        # What the job reported, a failed job too (e.g. the check that failed).
        reported = session.get_results(implicit_materializations=False)
        result = StepRun(checks=[r for r in reported if isinstance(r, AssetCheckResult)])
        if ended["JobRunState"] != "SUCCEEDED":
            result.error = self._failure(context, ended, since, cost)
            return result
        messages = session.get_custom_messages()
        for message in messages:
            result.data.update(message.get("data", {}))
        for item in reported:
            if isinstance(item, MaterializeResult) and item.asset_key is not None:
                metadata = {**(item.metadata or {}), **cost, "spark_mode": self.mode}
                result.materializations[item.asset_key.to_user_string()] = metadata
        if not result.materializations or not messages:
            result.error = Failure(
                description=f"Glue job {self.job_name} succeeded but did not report step "
                f"{step}'s materialisation and data through Pipes: is the deployed code "
                "current (`f1-pipeline glue deploy`)?",
                allow_retries=False,
            )
        return result

    def _failure(
        self, context: AssetExecutionContext, run: Mapping[str, Any], since: float, cost: dict
    ) -> BaseException:
        """The step's error for a job run that did not succeed, classified from its state and
        the exception class the job reported through Pipes (an event of this run)."""
        state, glue_message = run["JobRunState"], run.get("ErrorMessage") or ""
        error = reported_error(context, since)
        kind, retryable = classify(state, error.cls_name if error else None, glue_message)
        what = f"{error.cls_name}: {error.message.strip()}" if error else glue_message
        text = f"Glue job {self.job_name} run {run.get('Id')} ended {state}: {what}".strip()
        if retryable:
            return TransientFailure(text)
        metadata: dict[str, Any] = dict(cost)
        if kind in ("refused", "held"):
            metadata[BAD_INPUT_METADATA] = MetadataValue.bool(True)
            metadata[HELD_METADATA] = MetadataValue.bool(kind == "held")
            text = error.message.strip() if error else text
        return Failure(description=text, metadata=metadata, allow_retries=False)


def reported_error(context: AssetExecutionContext, since: float) -> Any:
    """The exception the external process reported when it closed Pipes, as Dagster recorded
    it (an engine event of the run, with the structured error); None if it reported none."""
    records = context.instance.all_logs(context.run.run_id, of_type=DagsterEventType.ENGINE_EVENT)
    for record in reversed(records):
        event = record.dagster_event
        data = event.engine_event_data if event else None
        if record.timestamp >= since and data is not None and data.error is not None:
            return data.error
    return None
