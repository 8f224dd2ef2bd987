"""A local stand-in for the AWS Glue control plane, for PipesGlueClient.

moto's Glue API keeps job definitions (created by ``f1-pipeline glue deploy``) but executes
nothing. This object answers the calls PipesGlueClient makes (``start_job_run``,
``get_job_run``, ``batch_stop_job_run``, ``meta``) by running the job's real entry script
(downloaded from its ScriptLocation in the test S3 server) in a subprocess, with the job's
default arguments merged under the run's, as Glue does. The subprocess cannot import
Dagster (only dagster-pipes), as on Glue where only the wheel and dagster-pipes are installed.

From the job definition it honours ScriptLocation, DefaultArguments,
NonOverridableArguments, ExecutionProperty.MaxConcurrentRuns and Timeout (minutes, scaled
by ``seconds_per_minute`` so a test can reach it), and ``--additional-python-modules``:
an ``s3://`` wheel is downloaded and installed without dependencies into a directory put
first on the job's path (so the job runs the deployed wheel, not this checkout), a
``name==version`` must match what this environment has. Off Glue the script runs on local
Spark and stages its S3 inputs and outputs through local files (DirectIO is Glue's path).

``python`` is the job's interpreter: this one by default, or another environment's (the
Spark 3.5 lane points it at an environment with Glue 5's pyspark and no Dagster).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

# The modules a Glue job does not have: importing them in the job fails, as it would there.
NOT_ON_GLUE_MODULES = ("dagster", "dagster_aws", "dagster_pyspark", "dagster_webserver")
# Nor the environment of the test's process: its Spark Connect mode, server and token.
NOT_ON_GLUE_ENV = {
    "SPARK_CONNECT_MODE_ENABLED", "SPARK_REMOTE", "F1_SPARK_REMOTE",
    "SPARK_CONNECT_AUTHENTICATE_TOKEN",
}  # fmt: skip
_BOOT = (
    "import runpy, sys\n"
    f"for name in {NOT_ON_GLUE_MODULES!r}: sys.modules[name] = None\n"
    "sys.argv = sys.argv[1:]\n"
    "runpy.run_path(sys.argv[0], run_name='__main__')\n"
)
_ERROR_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Failed|Exit)): (.+)$")


def _error_message(log: str) -> str:
    """Glue reports a failed Python job by its last exception line."""
    for line in reversed(log.splitlines()):
        match = _ERROR_LINE.match(line.strip())
        if match:
            return f"{match.group(1).rsplit('.', 1)[-1]}: {match.group(2)}"
    return "job process failed; see its log"


@dataclass
class LocalJobRun:
    id: str
    job_name: str
    arguments: dict[str, str]
    log_path: Path
    timeout_seconds: float
    process: subprocess.Popen | None = None
    # Without running anything: (final state, error message, seconds until it ends). Until
    # then the run is WAITING (for EXPIRED: a queued run) or RUNNING.
    forced: tuple[str, str, float] | None = None
    state: str = "RUNNING"
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    started_on: float = field(default_factory=time.time)
    # Queued by Glue's job-run queuing (WAITING) until a slot frees: then this starts it.
    launch: Any = None
    worker_type: str | None = None
    workers: int | None = None

    def refresh(self) -> str:
        if self.state not in ("RUNNING", "WAITING", "STOPPING"):
            return self.state
        if self.launch is not None:
            return "WAITING"
        if self.forced is not None:
            final, error, seconds = self.forced
            if time.monotonic() - self.started >= seconds:
                self.state, self.error = final, error or None
            else:
                self.state = "WAITING" if final == "EXPIRED" else "RUNNING"
            return self.state
        assert self.process is not None
        code = self.process.poll()
        if code is None and time.monotonic() - self.started > self.timeout_seconds:
            self.kill()
            self.state, self.error = "TIMEOUT", "Job run timed out"
        elif code is not None and self.state == "STOPPING":
            self.state = "STOPPED"
        elif code == 0:
            self.state = "SUCCEEDED"
        elif code is not None:
            self.state, self.error = "FAILED", _error_message(self.log_path.read_text())
        return self.state

    def kill(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class LocalGlue:
    """``glue_api``: a boto3 Glue client on moto (job definitions); ``s3``: a boto3 S3
    client on the same server (scripts); ``env``: the job process's environment."""

    def __init__(
        self,
        glue_api: Any,
        s3: Any,
        env: dict[str, str],
        workdir: Path,
        seconds_per_minute: float = 60.0,
        python: str = sys.executable,
    ) -> None:
        self.glue_api, self.s3, self.env, self.workdir = glue_api, s3, env, workdir
        self.python = python
        self.seconds_per_minute = seconds_per_minute
        self.runs: dict[str, LocalJobRun] = {}
        self.next_outcomes: list[tuple[str, str, float]] = []
        self.stop_requests: list[str] = []
        # Faults to inject, each used once, in order: "start: lost response" (the run starts,
        # the caller gets an error), "start: twice" (botocore retried a start that had
        # succeeded: two runs, the second's id returned), "poll: throttled" and "poll:
        # denied" (GetJobRun), "stop: refused" (BatchStopJobRun answers with Errors).
        self.faults: list[str] = []
        # Glue's job-run queuing for jobs whose definition says so (moto keeps no such flag).
        self.queuing = False
        # Glue's ErrorMessage as uninformative as it often is, for failed Python jobs.
        self.opaque_errors = False
        self._lock = threading.Lock()

    @property
    def meta(self) -> Any:
        return self.glue_api.meta

    def get_job(self, **kwargs: Any) -> Any:
        return self.glue_api.get_job(**kwargs)

    def _error(self, code: str, message: str, operation: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": message}}, operation)

    def _download(self, location: str, run_dir: Path) -> Path:
        bucket, key = location[len("s3://") :].split("/", 1)
        path = run_dir / Path(key).name
        self.s3.download_file(bucket, key, str(path))
        return path

    def _python_path(self, modules: str, run_dir: Path) -> str:
        """Install the job's extra modules as Glue does; return the directory holding them."""
        site = run_dir / "site"
        for entry in filter(None, (m.strip() for m in modules.split(","))):
            if entry.startswith("s3://"):
                wheel = self._download(entry, run_dir)
                subprocess.run(
                    [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                     "--no-index", "--target", str(site), str(wheel)],
                    check=True, capture_output=True,
                )  # fmt: skip
            else:
                name, _, wanted = entry.partition("==")
                found = self._job_version(name)
                if wanted and found != wanted:
                    raise RuntimeError(f"job wants {entry}; its environment has {found}")
        return str(site)

    def _job_version(self, name: str) -> str:
        """The version of ``name`` installed in the job's interpreter."""
        if self.python == sys.executable:
            return version(name)
        code = f"import importlib.metadata as m; print(m.version({name!r}))"
        done = subprocess.run([self.python, "-c", code], capture_output=True, text=True)
        return done.stdout.strip() or "nothing"

    def _fault(self, prefix: str) -> str | None:
        with self._lock:
            for fault in self.faults:
                if fault.startswith(prefix):
                    self.faults.remove(fault)
                    return fault
        return None

    def _active(self, job_name: str) -> list[LocalJobRun]:
        return [r for r in self.runs.values() if r.job_name == job_name and r.launch is None
                and r.refresh() in ("RUNNING", "STOPPING")]  # fmt: skip

    def _promote_waiting(self, job_name: str, limit: int) -> None:
        """Start queued runs, oldest first, while the job has free slots."""
        for run in list(self.runs.values()):
            if run.job_name == job_name and run.launch is not None and run.state == "WAITING":
                if len(self._active(job_name)) >= limit:
                    return
                launch, run.launch = run.launch, None
                run.started, run.state = time.monotonic(), "RUNNING"
                launch()

    def start_job_run(self, JobName: str, Arguments: dict[str, str] | None = None, **kw: Any):
        fault = self._fault("start:")
        if fault == "start: twice":
            self.start_job_run(JobName, Arguments, **kw)
        started = self._start_job_run(JobName, Arguments)
        if fault == "start: lost response":
            raise self._error("InternalServiceException", "connection reset", "StartJobRun")
        return started

    def _start_job_run(self, JobName: str, Arguments: dict[str, str] | None):
        job = self.glue_api.get_job(JobName=JobName)["Job"]  # EntityNotFoundException if none
        with self._lock:
            limit = job.get("ExecutionProperty", {}).get("MaxConcurrentRuns", 1)
            queue = job.get("JobRunQueuingEnabled", self.queuing)
            full = len(self._active(JobName)) >= limit
            if full and not queue:
                raise self._error(
                    "ConcurrentRunsExceededException",
                    f"Concurrent runs exceeded for {JobName}", "StartJobRun"
                )  # fmt: skip
            run_id = f"jr_{uuid.uuid4().hex}"
            arguments = {
                **job.get("DefaultArguments", {}),
                **(Arguments or {}),
                **job.get("NonOverridableArguments", {}),
                "--JOB_ID": f"j_{JobName}",
                "--JOB_RUN_ID": run_id,
                "--JOB_NAME": JobName,
            }
            run_dir = self.workdir / run_id
            run_dir.mkdir(parents=True)
            run = LocalJobRun(
                id=run_id,
                job_name=JobName,
                arguments=arguments,
                log_path=run_dir / "output.log",
                timeout_seconds=job.get("Timeout", 2880) * self.seconds_per_minute,
            )
            run.worker_type = job.get("WorkerType")
            run.workers = job.get("NumberOfWorkers")
            if self.next_outcomes:
                run.forced = self.next_outcomes.pop(0)
            if full:
                run.state = "WAITING"
                run.launch = lambda: self._launch(run, job, arguments, run_dir)
            else:
                self._launch(run, job, arguments, run_dir)
            self.runs[run_id] = run
        return {"JobRunId": run_id}

    def _launch(self, run: LocalJobRun, job: dict, arguments: dict, run_dir: Path) -> None:
        if run.forced is not None:
            return
        script = self._download(job["Command"]["ScriptLocation"], run_dir)
        modules = arguments.get("--additional-python-modules", "")
        # A Glue job starts from a clean environment: no Spark Connect mode a test
        # process may have switched on for itself (the Connect lane).
        env = {k: v for k, v in self.env.items() if k not in NOT_ON_GLUE_ENV}
        env["PYTHONPATH"] = self._python_path(modules, run_dir)

        argv = [item for pair in arguments.items() for item in pair]
        with run.log_path.open("wb") as log:
            run.process = subprocess.Popen(
                [self.python, "-c", _BOOT, str(script), *argv],
                cwd=run_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def _job_run(self, run: LocalJobRun) -> dict[str, Any]:
        job = self.glue_api.get_job(JobName=run.job_name)["Job"]
        with self._lock:
            self._promote_waiting(run.job_name, job.get("ExecutionProperty", {}).get(
                "MaxConcurrentRuns", 1))  # fmt: skip
            state = run.refresh()
        job_run = {
            "Id": run.id,
            "JobName": run.job_name,
            "JobRunState": state,
            "Attempt": 0,
            "Arguments": run.arguments,
            "StartedOn": run.started_on,
            "ExecutionTime": 0 if run.launch else int(time.monotonic() - run.started),
            "WorkerType": run.worker_type,
            "NumberOfWorkers": run.workers,
        }
        if run.error and self.opaque_errors and state == "FAILED":
            run.error = "Command failed with exit code 1"
        if run.error:
            job_run["ErrorMessage"] = run.error
        return job_run

    def get_job_run(self, JobName: str, RunId: str, **_: Any):
        fault = self._fault("poll:")
        if fault == "poll: throttled":
            raise self._error("ThrottlingException", "Rate exceeded", "GetJobRun")
        if fault == "poll: denied":
            raise self._error("AccessDeniedException", "not allowed: GetJobRun", "GetJobRun")
        run = self.runs.get(RunId)
        if run is None or run.job_name != JobName:
            raise self._error("EntityNotFoundException", f"Job run {RunId} not found", "GetJobRun")
        return {"JobRun": self._job_run(run)}

    def get_job_runs(self, JobName: str, MaxResults: int = 100, **_: Any):
        """The newest first, as Glue lists them."""
        runs = [r for r in self.runs.values() if r.job_name == JobName]
        newest = sorted(runs, key=lambda r: r.started_on, reverse=True)[:MaxResults]
        return {"JobRuns": [self._job_run(r) for r in newest]}

    def batch_stop_job_run(self, JobName: str, JobRunIds: list[str], **_: Any):
        stopped, errors = [], []
        refuse = self._fault("stop:")
        for run_id in JobRunIds:
            run = self.runs.get(run_id)
            self.stop_requests.append(run_id)
            if refuse:
                detail = {"ErrorCode": "InternalServiceException", "ErrorMessage": "try later"}
                errors.append({"JobName": JobName, "JobRunId": run_id, "ErrorDetail": detail})
                continue
            if run is None or run.refresh() not in ("RUNNING", "WAITING"):
                errors.append({"JobName": JobName, "JobRunId": run_id,
                               "ErrorDetail": {"ErrorCode": "InvalidInputException"}})  # fmt: skip
                continue
            with self._lock:
                run.state, run.launch = "STOPPING", None
                run.kill()
                run.state = "STOPPED"
            stopped.append({"JobName": JobName, "JobRunId": run_id})
        return {"SuccessfulSubmissions": stopped, "Errors": errors}

    def log(self, run_id: str) -> str:
        return self.runs[run_id].log_path.read_text()

    def close(self) -> None:
        for run in self.runs.values():
            run.kill()
