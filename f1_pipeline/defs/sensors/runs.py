"""What the sensors need to know about runs: which are under way on the platform's outputs
(whatever launched them), and how the last run requested for a state of data and code ended.

Retrying is Dagster's (the steps' RetryPolicy, run retries in the instance); a sensor only
reads how things ended to explain what it waits for."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from dagster import (
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    RepositoryDefinition,
    RunsFilter,
)

from f1_pipeline.defs.failures import BAD_INPUT_METADATA, HELD_METADATA

IN_FLIGHT = [
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
]


def run_assets(run, repository: RepositoryDefinition | None) -> Collection[AssetKey] | None:
    """The assets a run writes: its asset selection, or for a whole-job run its job's assets
    (None: unknown, e.g. a job this code location no longer has)."""
    if run.asset_selection is not None:
        return run.asset_selection
    if repository is None or not repository.has_job(run.job_name):
        return None
    return repository.get_job(run.job_name).asset_layer.selected_asset_keys


def runs_in_flight(
    instance: DagsterInstance,
    assets: Collection[AssetKey],
    repository: RepositoryDefinition | None = None,
) -> list[str]:
    """Ids of the queued or running runs that write any of ``assets``, whoever launched them
    (a sensor, the schedule, a Materialize in the UI, a backfill, the CLI). A run whose assets
    cannot be told counts as writing them."""
    busy = []
    for run in instance.get_runs(RunsFilter(statuses=IN_FLIGHT), limit=50):
        keys = run_assets(run, repository)
        if keys is None or set(keys) & set(assets):
            busy.append(run.run_id)
    return busy


def flag(metadata: Mapping[str, Any], name: str) -> bool:
    """A true boolean metadata entry (the failure flags steps set)."""
    value = metadata.get(name)
    return value is not None and bool(value.value)


@dataclass(frozen=True)
class StepFailure:
    """A failed step of a run, as a person reads it."""

    text: str  # the step's own description, else its innermost error's message
    refused: bool  # failed on the data itself (bad input): a retry cannot help
    held: bool  # held: waiting for an acceptance or a new upload


def step_failures(instance: DagsterInstance, run_id: str) -> list[StepFailure]:
    """The run's failed steps, in order."""
    failures = []
    for record in instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE):
        data = record.dagster_event.step_failure_data if record.dagster_event else None
        if data is None:
            continue
        user, error = data.user_failure_data, data.error
        text = user.description if user and user.description else None
        while text is None and error is not None:
            text, error = (error.message if not error.cause else None), error.cause
        metadata = user.metadata if user else {}
        refused, held = (flag(metadata, name) for name in (BAD_INPUT_METADATA, HELD_METADATA))
        failures.append(StepFailure((text or "").strip(), refused, held))
    return failures


@dataclass(frozen=True)
class Outcome:
    """How the latest run tagged ``tag=value`` ended: ``status`` None while none exists or it
    is still under way (a run Dagster is about to retry counts as under way)."""

    run_id: str | None
    status: str | None  # "SUCCESS", "FAILURE", "CANCELED"
    refused: bool = False  # failed on the data itself (bad input): a retry cannot help
    held: bool = False  # held: waiting for an acceptance or a new upload
    message: str = ""


def last_outcome(instance: DagsterInstance, tag: str, value: str) -> Outcome:
    runs = instance.get_runs(RunsFilter(tags={tag: value}), limit=1)
    if not runs:
        return Outcome(None, None)
    run = runs[0]
    if run.status in IN_FLIGHT or run.tags.get("dagster/will_retry") == "true":
        return Outcome(run.run_id, None)
    if run.status != DagsterRunStatus.FAILURE:
        return Outcome(run.run_id, run.status.value)
    for failure in step_failures(instance, run.run_id):
        if failure.refused or failure.held:
            return Outcome(run.run_id, "FAILURE", True, failure.held, failure.text[:600])
    return Outcome(run.run_id, "FAILURE")
