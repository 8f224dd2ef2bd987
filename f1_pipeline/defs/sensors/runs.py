"""What the sensors need to know about runs already under way."""

from collections.abc import Sequence

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from f1_pipeline.defs.constants import ALL_ASSETS_JOB, INGEST_JOB, SEASON_STATS_JOB

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


def runs_in_flight(instance: DagsterInstance, job_names: Sequence[str]) -> list[str]:
    """Ids of the runs of ``job_names`` that are queued or running."""
    return [
        run.run_id
        for name in job_names
        for run in instance.get_runs(RunsFilter(job_name=name, statuses=IN_FLIGHT), limit=5)
    ]
