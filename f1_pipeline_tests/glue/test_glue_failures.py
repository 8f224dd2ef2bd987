"""Glue job runs that do not succeed: bad input, a stopped Dagster run, EXPIRED, TIMEOUT.
How each ends the step is decided from structured data (the job run's state, the exception
class the job reported through Pipes), never from Glue's free-text message."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from dagster import DagsterEventType, DagsterRunStatus

from f1_pipeline.cli.errors import CommandError
from f1_pipeline.cli.launch import ingest
from f1_pipeline.core.storage import layout

pytestmark = pytest.mark.glue  # runs jobs in the Glue stand-in: not in `make test-fast`

# Longest a failing run may take before the test calls it a hang (the bug being guarded
# against is a client polling a finished job run forever).
HANG_SECONDS = 120


def _ingest_with_deadline(defs, instance) -> BaseException | None:
    """Run the ingest in a thread; fail the test if it does not end in time."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            ingest(defs, instance)
            outcome.append(None)
        except BaseException as err:
            outcome.append(err)

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(HANG_SECONDS)
    assert not worker.is_alive(), f"the run was still waiting after {HANG_SECONDS}s"
    return outcome[0]


def _published(s3_storage) -> list[str]:
    return [o.key for o in s3_storage.list(layout.CLEANED_PREFIX)] + [
        o.key for o in s3_storage.list(layout.RESULTS_PREFIX)
    ]


def test_a_failing_job_fails_the_run_with_the_jobs_error_and_publishes_nothing(
    glue_defs, instance, s3_storage, local_glue
):
    races = s3_storage.read_bytes(layout.source_csv("races")).decode()
    lines = races.splitlines()
    lines[3] = lines[3].replace(",2024,", ",20x4,", 1)
    s3_storage.write_bytes(layout.source_csv("races"), "\n".join(lines).encode())
    # Glue's own message says nothing useful: what the job reported through Pipes decides.
    local_glue.opaque_errors = True

    with pytest.raises(CommandError) as failed:
        ingest(glue_defs, instance)
    message = str(failed.value)
    (run,) = local_glue.runs.values()
    assert run.state == "FAILED"
    assert run.error == "Command failed with exit code 1"
    assert message.startswith("the upload was refused; nothing was published")
    assert "races.csv, line 4, column 'year'" in message
    assert _published(s3_storage) == []
    # Bad data is not retried: one job run, whose cost and console link the failure records.
    assert len(local_glue.runs) == 1
    (dagster_run,) = instance.get_runs()
    (failure,) = instance.all_logs(dagster_run.run_id, of_type=DagsterEventType.STEP_FAILURE)
    metadata = failure.dagster_event.step_failure_data.user_failure_data.metadata
    assert metadata["f1/bad_input"].value is True  # refused: the sensors wait for a new upload
    assert metadata["glue/job_run_id"].value == run.id
    assert metadata["glue/job_run_state"].value == "FAILED"
    assert metadata["glue/dpu_seconds"].value == 120.0  # 2 x G.1X, one billed minute
    assert run.id in metadata["glue/console_url"].value


def test_a_failed_check_in_the_job_is_recorded_and_fails_the_run(
    glue_defs, instance, s3_storage, local_glue
):

    races = s3_storage.read_bytes(layout.source_csv("races")).decode().splitlines()
    s3_storage.write_bytes(layout.source_csv("races"), "\n".join([*races, races[1]]).encode())

    with pytest.raises(CommandError, match=r"race_id_unique: 1 violation\(s\)"):
        ingest(glue_defs, instance)
    (dagster_run,) = instance.get_runs()
    evaluations = instance.all_logs(
        dagster_run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION
    )
    # Reported by the job through Pipes before it failed, shown as in local mode.
    assert {
        e.dagster_event.event_specific_data.check_name: e.dagster_event.event_specific_data.passed
        for e in evaluations
    } == {
        "race_id_unique": False,
        "season_round_unique": False,
        "no_published_data_removed": True,
        # One job run checks the whole upload: the results' checks too.
        "result_id_unique": True,
        "race_id_in_races": True,
    }

    assert _published(s3_storage) == []


def test_stopping_the_dagster_run_stops_the_glue_job_run(glue_defs, instance, local_glue):
    def interrupt_once_the_job_runs() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(r.process and r.process.poll() is None for r in local_glue.runs.values()):
                time.sleep(1.0)  # let it get going
                os.kill(os.getpid(), signal.SIGINT)  # what terminating the run worker does
                return
            time.sleep(0.1)

    threading.Thread(target=interrupt_once_the_job_runs, daemon=True).start()
    ingest(glue_defs, instance)

    # The interrupted step stopped its job run (no job run outlives its step) ...
    first, second = local_glue.runs
    assert local_glue.stop_requests == [first]
    assert local_glue.runs[first].state == "STOPPED"
    assert local_glue.runs[first].process.poll() is not None  # the job's process is gone
    (dagster_run,) = instance.get_runs()
    messages = [r.user_message for r in instance.all_logs(dagster_run.run_id)]
    assert any(f"stopped Glue job run {first}" == m for m in messages)
    # ... and Dagster, whose RetryPolicy covers interrupts (preempted workers), ran the step
    # again: one new job run, to the end.
    assert local_glue.runs[second].state == "SUCCEEDED"
    assert dagster_run.status == DagsterRunStatus.SUCCESS


def test_a_job_run_that_expires_is_retried_by_dagster(glue_defs, instance, local_glue):
    """A run queued past its limit (EXPIRED) is Glue's transient fault: the step's
    RetryPolicy starts another job run."""
    local_glue.next_outcomes.append(("EXPIRED", "Job run expired while waiting in the queue", 1))
    error = _ingest_with_deadline(glue_defs, instance)
    assert error is None
    assert [r.state for r in local_glue.runs.values()] == ["EXPIRED", "SUCCEEDED"]
    (dagster_run,) = instance.get_runs()
    retries = instance.all_logs(dagster_run.run_id, of_type=DagsterEventType.STEP_UP_FOR_RETRY)
    assert len(retries) == 1


@pytest.mark.parametrize("seconds_per_minute", [0.1])  # the job's 30-minute Timeout: 3 s
def test_a_job_run_that_times_out_fails_cleanly(glue_defs, instance, local_glue, s3_storage):
    error = _ingest_with_deadline(glue_defs, instance)
    assert isinstance(error, CommandError)
    assert "ended TIMEOUT" in str(error)
    (run,) = local_glue.runs.values()
    assert run.state == "TIMEOUT"
    assert run.process.poll() is not None
    assert _published(s3_storage) == []


def test_a_busy_job_queues_the_steps_run_until_a_slot_frees(
    glue_defs, instance, local_glue, glue_job
):
    """The job allows 3 concurrent runs (deploy's default) and queues any more (Glue's job-run
    queuing, which deploy turns on; moto keeps no such flag, so the stand-in is told)."""
    local_glue.queuing = True
    for _ in range(3):
        local_glue.next_outcomes.append(("SUCCEEDED", "", 4.0))
        local_glue.start_job_run(JobName=glue_job)

    ingest(glue_defs, instance)
    (dagster_run,) = instance.get_runs()
    retries = instance.all_logs(dagster_run.run_id, of_type=DagsterEventType.STEP_UP_FOR_RETRY)
    assert retries == []  # queued by Glue, not retried by the step
    # The three that held the slots, then the ingest's single job run (both tables).
    assert [r.state for r in local_glue.runs.values()] == ["SUCCEEDED"] * 4


def test_an_error_after_the_start_stops_the_run_and_is_not_retried(
    glue_defs, instance, local_glue, s3_storage
):
    local_glue.faults.append("poll: denied")  # the first status read after the start
    error = _ingest_with_deadline(glue_defs, instance)
    assert isinstance(error, CommandError)
    assert "AccessDenied" in str(error)
    (run_id,) = local_glue.runs
    assert local_glue.stop_requests == [run_id]
    assert local_glue.runs[run_id].state == "STOPPED"
    assert local_glue.runs[run_id].process.poll() is not None
    # The failed step removed its Pipes context object (and its message chunks).
    assert list(s3_storage.list(layout.PIPES_PREFIX)) == []
    assert _published(s3_storage) == []


def test_throttled_polls_do_not_restart_the_step(glue_defs, instance, local_glue):
    local_glue.faults += ["poll: throttled", "poll: throttled"]
    ingest(glue_defs, instance)
    (dagster_run,) = instance.get_runs()
    assert instance.all_logs(dagster_run.run_id, of_type=DagsterEventType.STEP_UP_FOR_RETRY) == []
    assert [r.state for r in local_glue.runs.values()] == ["SUCCEEDED"]


def test_a_stop_glue_refuses_is_reported_as_such(glue_defs, instance, local_glue):
    local_glue.faults += ["poll: denied", "stop: refused"]
    error = _ingest_with_deadline(glue_defs, instance)
    assert isinstance(error, CommandError)
    (dagster_run,) = instance.get_runs()
    messages = [r.user_message for r in instance.all_logs(dagster_run.run_id)]
    (run_id,) = local_glue.runs
    assert any(
        m.startswith(f"Glue refused to stop job {local_glue.runs[run_id].job_name} run(s) {run_id}")
        and "stop it in the Glue console" in m
        for m in messages
    )
