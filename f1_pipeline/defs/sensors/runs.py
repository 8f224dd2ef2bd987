"""What the sensors need to know about runs: which are under way, and how the last run they
requested for a given state of the data ended (to retry it, or to wait for new data)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

from f1_pipeline.defs.constants import ALL_ASSETS_JOB, INGEST_JOB, SEASON_STATS_JOB
from f1_pipeline.defs.failures import BAD_INPUT_METADATA

IN_FLIGHT = [
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
]

# Runs that write the cleaned layer (the CLI's full run included).
INGEST_JOBS = (INGEST_JOB, ALL_ASSETS_JOB)
PUBLISH_JOBS = (INGEST_JOB, ALL_ASSETS_JOB, SEASON_STATS_JOB)

# A failed request is retried after 10, 20, 40, 80 s ..., then every 10 min, until the
# outputs match the inputs (or new data arrives).
RETRY_BASE_SECONDS = 10.0
RETRY_CAP_SECONDS = 600.0


def retry_delay(attempts: int) -> float:
    return min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))


def runs_in_flight(instance: DagsterInstance, job_names: Sequence[str]) -> list[str]:
    """Ids of the runs of ``job_names`` that are queued or running."""
    return [
        run.run_id
        for name in job_names
        for run in instance.get_runs(RunsFilter(job_name=name, statuses=IN_FLIGHT), limit=5)
    ]


def in_flight_after(
    instance: DagsterInstance, job_names: Sequence[str], seconds: float, poll: float = 0.5
) -> list[str]:
    """:func:`runs_in_flight`, waiting up to ``seconds`` for them to end: empty as soon as
    none is left, else the ids still in flight when the time is up."""
    deadline = time.monotonic() + seconds
    while True:
        busy = runs_in_flight(instance, job_names)
        if not busy or time.monotonic() >= deadline:
            return busy
        time.sleep(poll)


@dataclass(frozen=True)
class Outcome:
    """How the latest run tagged ``tag=value`` ended: ``status`` None while none exists or it
    is still under way."""

    run_id: str | None
    status: str | None  # "SUCCESS", "FAILURE", "CANCELED"
    bad_input: bool = False  # failed on the data itself: a retry cannot help
    message: str = ""


def last_outcome(instance: DagsterInstance, tag: str, value: str) -> Outcome:
    runs = instance.get_runs(RunsFilter(tags={tag: value}), limit=1)
    if not runs:
        return Outcome(None, None)
    run = runs[0]
    if run.status in IN_FLIGHT:
        return Outcome(run.run_id, None)
    if run.status != DagsterRunStatus.FAILURE:
        return Outcome(run.run_id, run.status.value)
    for record in instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_FAILURE):
        event = record.dagster_event
        user = event.step_failure_data.user_failure_data if event else None
        if user is None:
            continue
        flag = user.metadata.get(BAD_INPUT_METADATA)
        if flag is not None and flag.value:
            return Outcome(run.run_id, "FAILURE", True, (user.description or "")[:500])
    return Outcome(run.run_id, "FAILURE")
