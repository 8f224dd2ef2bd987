"""Schedules: after every race weekend, publish what is due (never republish regardless: that
would make stale data look fresh); every few hours, check the data's freshness (a provider who
sends nothing triggers no ingest); daily, check that the published files are still what was
published."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from dagster import (
    DagsterInvalidDefinitionError,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from f1_pipeline.core.lineage import read_commit
from f1_pipeline.core.upload import look
from f1_pipeline.defs.constants import CHECK_TIME_TAG, TRIGGER_TAG
from f1_pipeline.defs.jobs import agreement_check_job, f1_job, freshness_check_job
from f1_pipeline.defs.resources import StepRunnerResource, StorageResource
from f1_pipeline.defs.sensors.state import decide, read_state


def race_weekend_schedule(cron: str) -> ScheduleDefinition:
    """On ``cron``: the publish run when the upload, the code or the published seasons are out
    of step (the sensors' own decision); otherwise a skip saying since when nothing is new."""

    @schedule(
        name="race_weekend_schedule",
        cron_schedule=cron,
        execution_timezone="UTC",
        job=f1_job,
        default_status=DefaultScheduleStatus.RUNNING,
        description=f"After race weekends ({cron} UTC): publishes what the data or code changed "
        'since the last run, if anything; otherwise records "nothing new since" the upload.',
    )
    def _schedule(
        context: ScheduleEvaluationContext,
        storage: StorageResource,
        step_runner: StepRunnerResource,
    ):
        store = storage.get()
        tick = context.scheduled_execution_time
        state = read_state(
            store, look(store).files, step_runner.code_versions(), step_runner.last_season()
        )
        if not state.due:
            commit = read_commit(store)
            since = f"upload {commit.upload if commit else state.upload or '(none)'}"
            if commit:
                since += f", ingested {commit.ingested_at}"
            return SkipReason(f"nothing new since {since}")
        key = f"race-weekend-{tick:%Y-%m-%dT%H:%M}"
        decision = decide(
            context.instance, context.repository_def, store, state, "race_weekend_schedule", key
        )
        if decision.request is None:
            return SkipReason(decision.reason)
        context.log.info(decision.reason)
        return decision.request

    return _schedule


def freshness_schedule(cron: str) -> ScheduleDefinition:
    """On ``cron``: the results-freshness check alone, at the tick's time (a fixed clock)."""

    @schedule(
        name="freshness_schedule",
        cron_schedule=cron,
        execution_timezone="UTC",
        job=freshness_check_job,
        default_status=DefaultScheduleStatus.RUNNING,
        description=f"Checks the results' freshness ({cron} UTC), upload or not.",
    )
    def _schedule(context: ScheduleEvaluationContext):
        tick = context.scheduled_execution_time
        return RunRequest(
            run_key=f"freshness-{tick:%Y-%m-%dT%H:%M}",
            tags={TRIGGER_TAG: "freshness_schedule", CHECK_TIME_TAG: tick.isoformat()},
        )

    return _schedule


def agreement_schedule(cron: str) -> ScheduleDefinition:
    """On ``cron``: the published-files check alone (it also runs after every publish)."""
    return ScheduleDefinition(
        name="published_files_schedule",
        cron_schedule=cron,
        execution_timezone="UTC",
        job=agreement_check_job,
        default_status=DefaultScheduleStatus.RUNNING,
        description=f"Checks that the published files are what was published ({cron} UTC): "
        "the manifest's checksums, JSON and Parquet agreeing.",
        tags={TRIGGER_TAG: "published_files_schedule"},
    )


# The schedules, each with the variable that sets its cron (UTC) and its default.
SCHEDULES: tuple[tuple[Callable[[str], ScheduleDefinition], str, str], ...] = (
    # Monday 06:00 UTC: after every race weekend, Sunday races in the Americas included.
    (race_weekend_schedule, "F1_RACE_WEEKEND_CRON", "0 6 * * 1"),
    # Every six hours: a provider sending nothing triggers no ingest.
    (freshness_schedule, "F1_FRESHNESS_CRON", "15 */6 * * *"),
    (agreement_schedule, "F1_AGREEMENT_CRON", "30 5 * * *"),  # daily
)


def schedules_for(env: Mapping[str, str]) -> list[ScheduleDefinition]:
    """The schedules on the crons ``env`` sets; a cron Dagster refuses fails in one sentence
    naming its variable."""
    from f1_pipeline.defs.config import ConfigError

    built = []
    for make, var, default in SCHEDULES:
        cron = (env.get(var) or "").strip() or default
        try:
            built.append(make(cron))
        except DagsterInvalidDefinitionError:
            raise ConfigError(
                f"{var}={cron!r} is not a valid cron string (five fields, UTC)"
            ) from None
    return built
