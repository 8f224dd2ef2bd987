"""One step's AWS Glue job run: started (never twice, even when a start's answer is lost),
followed until it ends, stopped if the step ends otherwise, and what it cost."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from dagster import MetadataValue

from f1_pipeline.defs.retries import is_transient

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
    dpu_seconds = job_run.get("DPUSeconds")
    if dpu_seconds is None:
        workers, worker_type = job_run.get("NumberOfWorkers"), job_run.get("WorkerType", "")
        capacity = job_run.get("MaxCapacity") or job_run.get("AllocatedCapacity") or 0
        dpus = workers * DPU_PER_WORKER.get(worker_type, 1.0) if workers else float(capacity)
        dpu_seconds = dpus * max(seconds, MIN_BILLED_SECONDS)
    region = region or "us-east-1"
    return {
        "glue/job_run_id": run_id,
        "glue/job_run_state": job_run.get("JobRunState", "UNKNOWN"),
        "glue/execution_seconds": seconds,
        "glue/dpu_seconds": round(float(dpu_seconds), 1),
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
            started = self.client.start_job_run(JobName=self.job_name, Arguments=dict(arguments))
            run_id = started["JobRunId"]
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
        if self.run_id is None or (self.last or {}).get("JobRunState") in TERMINAL_STATES:
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
