"""The step's Glue job run against the stand-in: the wait loop (every terminal state), the
tracking that keeps one job run per step, and what a run's metadata says it cost."""

from __future__ import annotations

import logging

import pytest
from botocore.exceptions import ClientError

from f1_pipeline.defs.runners.glue_job import (
    PIPES_CONTEXT_ARG,
    GlueStopFailed,
    GlueWaitExceeded,
    JobRun,
    job_run_metadata,
)

LOG = logging.getLogger("f1_pipeline_tests.glue")


def _client(local_glue, max_wait_seconds: float, job: str = "") -> JobRun:
    return JobRun(local_glue, job, 0.1, max_wait_seconds, LOG)


def _wait(local_glue, job: str, run_id: str, max_wait_seconds: float = 30):
    tracker = _client(local_glue, max_wait_seconds, job)
    tracker.run_id = run_id
    return tracker.wait()


@pytest.mark.parametrize("state", ["EXPIRED", "TIMEOUT", "ERROR", "STOPPED", "FAILED"])
def test_every_terminal_state_ends_the_wait(local_glue, glue_job, state):
    local_glue.next_outcomes.append((state, f"ended {state}", 0.3))
    run_id = local_glue.start_job_run(JobName=glue_job)["JobRunId"]
    run = _wait(local_glue, glue_job, run_id)
    assert run["JobRunState"] == state
    assert run["ErrorMessage"] == f"ended {state}"


def test_a_run_that_never_ends_ends_the_wait_after_the_max_wait(local_glue, glue_job):
    local_glue.next_outcomes.append(("SUCCEEDED", "", 3600))
    run_id = local_glue.start_job_run(JobName=glue_job)["JobRunId"]
    with pytest.raises(GlueWaitExceeded, match=rf"^Glue job {glue_job} run {run_id} still"):
        _wait(local_glue, glue_job, run_id, 0.5)


def test_throttled_polls_are_retried_inside_the_wait(local_glue, glue_job):
    local_glue.next_outcomes.append(("SUCCEEDED", "", 0.5))
    run_id = local_glue.start_job_run(JobName=glue_job)["JobRunId"]
    local_glue.faults += ["poll: throttled", "poll: throttled"]
    assert _wait(local_glue, glue_job, run_id)["JobRunState"] == "SUCCEEDED"
    assert local_glue.faults == []


def test_a_denied_poll_is_not_retried(local_glue, glue_job):
    local_glue.next_outcomes.append(("SUCCEEDED", "", 30))
    run_id = local_glue.start_job_run(JobName=glue_job)["JobRunId"]
    local_glue.faults.append("poll: denied")
    with pytest.raises(ClientError, match="AccessDenied"):
        _wait(local_glue, glue_job, run_id)


def _start(client: JobRun, glue_job: str, marker: str) -> str:
    client.job_name = glue_job
    return client.start({PIPES_CONTEXT_ARG: marker})


def test_a_start_whose_response_was_lost_follows_the_run_it_started(local_glue, glue_job):
    local_glue.next_outcomes.append(("SUCCEEDED", "", 30))
    local_glue.faults.append("start: lost response")
    client = _client(local_glue, 30)
    run_id = _start(client, glue_job, "context-1")
    assert list(local_glue.runs) == [run_id]
    assert local_glue.stop_requests == []


def test_a_start_that_made_two_runs_keeps_one(local_glue, glue_job):
    local_glue.next_outcomes += [("SUCCEEDED", "", 30), ("SUCCEEDED", "", 30)]
    local_glue.faults.append("start: twice")
    client = _client(local_glue, 30)
    run_id = _start(client, glue_job, "context-2")
    first, second = local_glue.runs
    assert run_id == second
    assert local_glue.stop_requests == [first]
    assert local_glue.runs[first].state == "STOPPED"


def test_a_lost_start_with_no_run_is_an_error(local_glue, glue_job, monkeypatch):
    """Nothing carries the step's context: the start failed for real, and says so."""
    monkeypatch.setattr(
        local_glue, "_start_job_run", lambda *a: (_ for _ in ()).throw(ClientError(
            {"Error": {"Code": "InternalServiceException", "Message": "down"}}, "StartJobRun"))
    )  # fmt: skip
    with pytest.raises(ClientError, match="down"):
        _start(_client(local_glue, 30), glue_job, "context-3")


def test_a_refused_stop_is_an_error_naming_glues_reason(local_glue, glue_job):
    local_glue.next_outcomes.append(("SUCCEEDED", "", 30))
    client = _client(local_glue, 30)
    run_id = _start(client, glue_job, "context-4")
    local_glue.faults.append("stop: refused")
    with pytest.raises(GlueStopFailed, match=rf"{run_id}: InternalServiceException try later"):
        client.stop([run_id])


def test_job_run_metadata_reports_cost_and_where_to_look():
    run = {"Id": "jr_1", "JobName": "f1", "JobRunState": "SUCCEEDED", "ExecutionTime": 42,
           "WorkerType": "G.1X", "NumberOfWorkers": 2}  # fmt: skip
    metadata = job_run_metadata(run, "eu-west-1")
    assert metadata["glue/job_run_id"] == "jr_1"
    assert metadata["glue/job_run_state"] == "SUCCEEDED"
    assert metadata["glue/execution_seconds"] == 42
    assert metadata["glue/dpu_seconds"] == 120.0  # 2 DPU x the one-minute minimum
    assert metadata["glue/console_url"].url == (
        "https://eu-west-1.console.aws.amazon.com/gluestudio/home?region=eu-west-1#/job/f1/run/jr_1"
    )
    longer = job_run_metadata({**run, "ExecutionTime": 90, "WorkerType": "G.2X"}, None)
    assert longer["glue/dpu_seconds"] == 360.0
    assert job_run_metadata({**run, "DPUSeconds": 33.5}, None)["glue/dpu_seconds"] == 33.5
