"""GlueSpark's client: the wait loop we replace in PipesGlueClient, against the stand-in."""

from __future__ import annotations

import pytest

from f1_pipeline.defs.runners.glue import F1PipesGlueClient, GlueWaitExceeded


def _client(local_glue, max_wait_seconds: float) -> F1PipesGlueClient:
    # Context injection and message reading are not used by the wait loop.
    return F1PipesGlueClient(
        context_injector=None,
        message_reader=object(),
        client=local_glue,
        poll_seconds=0.1,
        max_wait_seconds=max_wait_seconds,
    )


@pytest.mark.parametrize("state", ["EXPIRED", "TIMEOUT", "ERROR", "STOPPED", "FAILED"])
def test_every_terminal_state_ends_the_wait(local_glue, glue_job, state):
    local_glue.next_outcomes.append((state, f"ended {state}", 0.3))
    run_id = local_glue.start_job_run(JobName=glue_job)["JobRunId"]
    response = _client(local_glue, 30)._wait_for_job_run_completion(glue_job, run_id)
    assert response["JobRun"]["JobRunState"] == state
    assert response["JobRun"]["ErrorMessage"] == f"ended {state}"


def test_a_run_that_never_ends_is_stopped_after_the_max_wait(local_glue, glue_job):
    local_glue.next_outcomes.append(("SUCCEEDED", "", 3600))
    run_id = local_glue.start_job_run(JobName=glue_job)["JobRunId"]
    with pytest.raises(GlueWaitExceeded, match=rf"^Glue job {glue_job} run {run_id} still"):
        _client(local_glue, 0.5)._wait_for_job_run_completion(glue_job, run_id)
    assert local_glue.stop_requests == [run_id]
    assert local_glue.runs[run_id].state == "STOPPED"
