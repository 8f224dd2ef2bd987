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
from f1_pipeline.defs.retries import is_transient
from f1_pipeline.defs.runners.base import StepRun, StepRunner

# Every state a Glue job run ends in (https://docs.aws.amazon.com/glue/latest/dg/job-run-statuses.html).
# PipesGlueClient's own loop (dagster-aws 0.29) lacks EXPIRED and would poll such a run forever.
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


class _JobRunTracker:
    """The Glue client as PipesGlueClient sees it, remembering the job run a step started.
    A ``StartJobRun`` whose response was lost (a connection reset, a 5xx, botocore's own
    retry of a start that had in fact succeeded) never leaves a step with two runs: runs are
    found by the step's unique Pipes context argument, one is kept, any other stopped."""

    def __init__(self, client: Any, poll_seconds: float, patience_seconds: float) -> None:
        self._client = client
        self.poll_seconds, self.patience_seconds = poll_seconds, patience_seconds
        self.job_name: str | None = None
        self.run_id: str | None = None
        self.last: Mapping[str, Any] | None = None  # the latest GetJobRun's JobRun
        self.log: Any = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def start_job_run(self, **params: Any) -> Mapping[str, Any]:
        self.job_name = params["JobName"]
        marker = params.get("Arguments", {}).get(PIPES_CONTEXT_ARG)
        try:
            run_id = self._client.start_job_run(**params)["JobRunId"]
        except (ClientError, BotoCoreError) as err:
            found = self._runs_started_with(marker) if is_transient(err) else []
            if not found:
                raise
            run_id = found[0]
            self._warn(f"StartJobRun failed ({err}) but started run {run_id}: following it")
        self.run_id = run_id
        extra = [r for r in self._runs_started_with(marker) if r != run_id]
        if extra:
            self._warn(f"StartJobRun started {len(extra) + 1} runs; stopping {extra}")
            self.stop(extra)
        return {"JobRunId": run_id}

    def get_job_run(self, **params: Any) -> Mapping[str, Any]:
        """GetJobRun, retried through throttling and transient faults for a while: a status
        read that failed is not a reason to fail (and re-run) the step."""
        deadline = time.monotonic() + self.patience_seconds
        while True:
            try:
                response = self._client.get_job_run(**params)
                break
            except (ClientError, BotoCoreError) as err:
                if not is_transient(err) or time.monotonic() >= deadline:
                    raise
                self._warn(f"reading Glue job run {params.get('RunId')} failed ({err}); retrying")
                time.sleep(self.poll_seconds)
        if params.get("RunId") == self.run_id:
            self.last = response["JobRun"]
        return response

    def _runs_started_with(self, marker: str | None) -> list[str]:
        """This step's active job runs, oldest first (Glue lists the newest first)."""
        if marker is None or self.job_name is None:
            return []
        runs = self._client.get_job_runs(JobName=self.job_name, MaxResults=50)["JobRuns"]
        return [
            r["Id"]
            for r in reversed(runs)
            if r.get("Arguments", {}).get(PIPES_CONTEXT_ARG) == marker
            and r.get("JobRunState") not in TERMINAL_STATES
        ]

    def stop(self, run_ids: list[str]) -> None:
        """Stop ``run_ids``; a stop Glue refuses is raised, named for what it is."""
        assert self.job_name is not None
        response = self._client.batch_stop_job_run(JobName=self.job_name, JobRunIds=run_ids)
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

    def _warn(self, message: str) -> None:
        if self.log is not None:
            self.log.warning(message)


class GlueStopFailed(RuntimeError):
    """Glue answered a stop request with errors: the job run may still be running."""


class F1PipesGlueClient(PipesGlueClient):
    """dagster-aws's PipesGlueClient (start, Pipes session, run metadata) with one job run
    per step, always: whatever error follows the start (a failed status poll, a lost
    message, an interruption) stops the run before the step fails or is retried; status
    polls that fail for a transient reason are retried inside the wait, which ends on every
    terminal state and gives up, stopping the run, after ``max_wait_seconds``."""

    def __init__(self, *, poll_seconds: float, max_wait_seconds: float, **kwargs: Any) -> None:
        kwargs["client"] = _JobRunTracker(
            kwargs["client"], poll_seconds, patience_seconds=min(max_wait_seconds, 300)
        )
        super().__init__(**kwargs)
        self.tracker: _JobRunTracker = kwargs["client"]
        self.poll_seconds = poll_seconds
        self.max_wait_seconds = max_wait_seconds

    def run(self, *, context: Any, extras: Any = None, **kwargs: Any) -> Any:
        self.tracker.log = context.log
        try:
            return super().run(context=context, extras=extras, **kwargs)
        except BaseException as err:
            self._stop_unfinished(context, err)
            raise

    def _stop_unfinished(self, context: Any, err: BaseException) -> None:
        tracker = self.tracker
        if tracker.run_id is None:
            return
        if tracker.last is not None and tracker.last.get("JobRunState") in TERMINAL_STATES:
            return
        context.log.warning(f"stopping Glue job run {tracker.run_id} after: {err!r}")
        try:
            tracker.stop([tracker.run_id])
        except (GlueStopFailed, ClientError, BotoCoreError) as stop_error:
            context.log.error(str(stop_error))
            err.add_note(str(stop_error))
        else:
            context.log.warning(f"stopped Glue job run {tracker.run_id}")

    def _terminate_job_run(self, context: Any, job_name: str, run_id: str) -> None:
        # An interrupted step (the Dagster run stopped): stopped by run()'s handler, which
        # reads Glue's `Errors` (dagster-aws reads `errors`, a key Glue never sends).
        pass

    def _wait_for_job_run_completion(self, job_name: str, run_id: str) -> Any:
        deadline = time.monotonic() + self.max_wait_seconds
        while True:
            response = self._client.get_job_run(JobName=job_name, RunId=run_id)
            state = response["JobRun"]["JobRunState"]
            if state in TERMINAL_STATES:
                return response
            if time.monotonic() >= deadline:
                # run()'s handler stops it.
                raise GlueWaitExceeded(
                    f"Glue job {job_name} run {run_id} still {state} after "
                    f"{self.max_wait_seconds:.0f}s; stopping it"
                )
            time.sleep(self.poll_seconds)

    @property
    def region(self) -> str | None:
        return self._client.meta.region_name

    def _extract_dagster_metadata(self, response: Any) -> Any:
        return job_run_metadata(response["JobRun"], self.region)


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
            context_injector=DeletingS3ContextInjector(
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
            job_run = client.tracker.last
            failure = Failure(
                description=str(err),
                allow_retries=False,
                metadata={
                    BAD_INPUT_METADATA: is_bad_input_message(str(err)),
                    **(job_run_metadata(job_run, client.region) if job_run else {}),
                },
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
