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
from f1_pipeline.defs.retries import is_transient
from f1_pipeline.defs.runners.base import StepRun, StepRunner
from f1_pipeline.glue.deploy import CODE_VERSIONS_ARG

# Every state a Glue job run ends in (https://docs.aws.amazon.com/glue/latest/dg/job-run-statuses.html),
# EXPIRED included (a run queued past its limit): a loop without it polls such a run forever.
TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT", "ERROR", "EXPIRED"})


# The Pipes argument naming the session's context object: unique per step attempt, so it
# tells which job runs a step started.
PIPES_CONTEXT_ARG = "--dagster-pipes-context"

# DPUs per worker (https://docs.aws.amazon.com/glue/latest/dg/add-job.html); Glue bills
# Spark jobs per second with a one-minute minimum.
DPU_PER_WORKER = {"G.025X": 0.25, "G.1X": 1.0, "G.2X": 2.0, "G.4X": 4.0, "G.8X": 8.0, "Z.2X": 2.0}
MIN_BILLED_SECONDS = 60


class GlueWaitExceeded(RuntimeError):
    """A job run did not end within the configured wait; it was asked to stop."""


def job_run_metadata(job_run: Mapping[str, Any], region: str | None) -> dict[str, Any]:
    """What one job run cost and where to look at it: id, final state, seconds, DPU-seconds
    (Glue's figure when it reports one, else workers x DPU x billed seconds), console URL."""
    run_id, job = job_run.get("Id", ""), job_run.get("JobName", "")
    seconds = int(job_run.get("ExecutionTime") or 0)
    if job_run.get("DPUSeconds") is not None:
        dpu_seconds = float(job_run["DPUSeconds"])
    else:
        workers = job_run.get("NumberOfWorkers")
        dpus = (
            workers * DPU_PER_WORKER.get(job_run.get("WorkerType", ""), 1.0)
            if workers
            else float(job_run.get("MaxCapacity") or job_run.get("AllocatedCapacity") or 0)
        )
        dpu_seconds = dpus * max(seconds, MIN_BILLED_SECONDS) if dpus else 0.0
    region = region or "us-east-1"
    return {
        "glue/job_run_id": run_id,
        "glue/job_run_state": job_run.get("JobRunState", "UNKNOWN"),
        "glue/execution_seconds": seconds,
        "glue/dpu_seconds": round(dpu_seconds, 1),
        "glue/console_url": MetadataValue.url(
            f"https://{region}.console.aws.amazon.com/gluestudio/home?region={region}"
            f"#/job/{job}/run/{run_id}"
        ),
    }


class GlueStopFailed(RuntimeError):
    """Glue answered a stop request with errors: the job run may still be running."""


class JobRun:
    """One step's Glue job run: started, followed until it ends, stopped if the step ends
    otherwise. A ``StartJobRun`` whose response was lost (a connection reset, a 5xx,
    botocore's own retry of a start that had in fact succeeded) never leaves a step with two
    runs: runs are found by the step's unique Pipes context argument, one is kept, any other
    stopped. Status reads that fail for a transient reason are retried in place; the wait
    ends on every terminal state and gives up, stopping the run, after ``max_wait_seconds``."""

    def __init__(
        self, client: Any, job_name: str, poll_seconds: float, max_wait_seconds: float, log: Any
    ) -> None:
        self.client, self.job_name, self.log = client, job_name, log
        self.poll_seconds, self.max_wait_seconds = poll_seconds, max_wait_seconds
        self.patience_seconds = min(max_wait_seconds, 300.0)
        self.run_id: str | None = None
        self.last: Mapping[str, Any] | None = None  # the latest GetJobRun's JobRun

    def start(self, arguments: Mapping[str, str]) -> str:
        marker = arguments.get(PIPES_CONTEXT_ARG)
        try:
            run_id = self.client.start_job_run(JobName=self.job_name, Arguments=dict(arguments))[
                "JobRunId"
            ]
        except (ClientError, BotoCoreError) as err:
            found = self._runs_started_with(marker) if is_transient(err) else []
            if not found:
                raise
            run_id = found[0]
            self.log.warning(f"StartJobRun failed ({err}) but started run {run_id}: following it")
        self.run_id = run_id
        extra = [r for r in self._runs_started_with(marker) if r != run_id]
        if extra:
            self.log.warning(f"StartJobRun started {len(extra) + 1} runs; stopping {extra}")
            self.stop(extra)
        self.log.info(f"started Glue job {self.job_name} run {run_id}")
        return run_id

    def read(self) -> Mapping[str, Any]:
        """GetJobRun, retried through throttling and transient faults for a while: a status
        read that failed is not a reason to fail (and re-run) the step."""
        deadline = time.monotonic() + self.patience_seconds
        while True:
            try:
                run = self.client.get_job_run(JobName=self.job_name, RunId=self.run_id)["JobRun"]
                self.last = run
                return run
            except (ClientError, BotoCoreError) as err:
                if not is_transient(err) or time.monotonic() >= deadline:
                    raise
                self.log.warning(f"reading Glue job run {self.run_id} failed ({err}); retrying")
                time.sleep(self.poll_seconds)

    def wait(self) -> Mapping[str, Any]:
        """The job run once it ended (every terminal state, EXPIRED included)."""
        deadline = time.monotonic() + self.max_wait_seconds
        while True:
            run = self.read()
            if run["JobRunState"] in TERMINAL_STATES:
                return run
            if time.monotonic() >= deadline:
                raise GlueWaitExceeded(
                    f"Glue job {self.job_name} run {self.run_id} still {run['JobRunState']} "
                    f"after {self.max_wait_seconds:.0f}s; stopping it"
                )
            time.sleep(self.poll_seconds)

    def stop_unfinished(self, err: BaseException) -> None:
        """Stop the run unless it ended; a refused stop is logged and noted on ``err``."""
        if self.run_id is None:
            return
        if self.last is not None and self.last.get("JobRunState") in TERMINAL_STATES:
            return
        self.log.warning(f"stopping Glue job run {self.run_id} after: {err!r}")
        try:
            self.stop([self.run_id])
        except (GlueStopFailed, ClientError, BotoCoreError) as stop_error:
            self.log.error(str(stop_error))
            err.add_note(str(stop_error))
        else:
            self.log.warning(f"stopped Glue job run {self.run_id}")

    def _runs_started_with(self, marker: str | None) -> list[str]:
        """This step's active job runs, oldest first (Glue lists the newest first)."""
        if marker is None:
            return []
        runs = self.client.get_job_runs(JobName=self.job_name, MaxResults=50)["JobRuns"]
        return [
            r["Id"]
            for r in reversed(runs)
            if r.get("Arguments", {}).get(PIPES_CONTEXT_ARG) == marker
            and r.get("JobRunState") not in TERMINAL_STATES
        ]

    def stop(self, run_ids: list[str]) -> None:
        """Stop ``run_ids``; a stop Glue refuses is raised, named for what it is (Glue's
        answer lists refusals under ``Errors``)."""
        response = self.client.batch_stop_job_run(JobName=self.job_name, JobRunIds=run_ids)
        refused = [
            f"{e.get('JobRunId')}: {e.get('ErrorDetail', {}).get('ErrorCode')} "
            f"{e.get('ErrorDetail', {}).get('ErrorMessage', '')}".strip()
            for e in response.get("Errors", [])
        ]
        if refused:
            raise GlueStopFailed(
                f"Glue refused to stop job {self.job_name} run(s) {'; '.join(refused)}: it may "
                "still be running and writing; stop it in the Glue console"
            )


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
            params = {**params, "key_prefix": f"{self.key_prefix}{params['key_prefix']}"}
            try:
                yield params
            finally:
                self._delete_chunks(params["key_prefix"])

    def _delete_chunks(self, prefix: str) -> None:
        # Best effort: leftovers expire with the bucket's pipes/ lifecycle rule.
        with suppress(BotoCoreError, ClientError):
            S3Storage(lambda: self.client, self.bucket).delete_prefix(f"{prefix}/")


# The deployed job's code versions, read from the job at most this often (sensors ask every
# tick; kept per process, outside the per-tick resource objects).
_JOB_CODE_TTL_SECONDS = 60.0
_JOB_CODE: dict[str, tuple[float, dict[str, str] | None]] = {}


class GlueSpark(StepRunner):
    """Each step is one run of the Glue job ``job_name``, through a Dagster Pipes session
    (context in, messages back through S3); boto3 clients come from the given factories on
    first use (no region or network needed to build the definitions)."""

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
        self.glue_client = glue_client
        self.s3_client = s3_client
        self.poll_seconds = poll_seconds
        self.max_wait_seconds = max_wait_seconds

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

    def _pipes(self) -> tuple[DeletingS3ContextInjector, PrefixedS3MessageReader]:
        s3, root = self.s3_client(), self.data_root
        pipes = f"{root.prefix}{layout.PIPES_PREFIX}"
        reader = PrefixedS3MessageReader(
            bucket=root.bucket, client=s3, key_prefix=f"{pipes}messages/",
            interval=min(self.poll_seconds, 5.0),
        )  # fmt: skip
        injector = DeletingS3ContextInjector(
            bucket=root.bucket, client=s3, key_prefix=f"{pipes}context/"
        )
        return injector, reader

    def run(self, context: AssetExecutionContext, step: str, params: Mapping[str, Any]) -> StepRun:
        extras = {"f1_step": step, "f1_params": dict(params), "f1_data_root": str(self.data_root)}
        injector, reader = self._pipes()
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
