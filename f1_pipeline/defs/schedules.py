"""After every race weekend, republish the current season."""

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from f1_pipeline.core.lineage import read_commit
from f1_pipeline.defs.constants import SEASONS_PARTITIONS, TRIGGER_TAG
from f1_pipeline.defs.jobs import season_stats_job
from f1_pipeline.defs.resources import StorageResource


def race_weekend_schedule(cron: str) -> ScheduleDefinition:
    """Materialise the tick's season (the year of its scheduled time, UTC) on ``cron``.
    A season with no races in the cleaned data (not yet, or withdrawn) is a clean skip."""

    @schedule(
        name="race_weekend_schedule",
        cron_schedule=cron,
        execution_timezone="UTC",
        job=season_stats_job,
        default_status=DefaultScheduleStatus.RUNNING,
        description=f"Republishes the current season's stats after race weekends ({cron} UTC).",
    )
    def _schedule(context: ScheduleEvaluationContext, storage: StorageResource):
        tick_time = context.scheduled_execution_time
        season = str(tick_time.year)
        in_data = (read_commit(storage.get()) or {}).get("seasons", {})
        if season not in in_data:
            return SkipReason(f"season {season} has no races in the cleaned data")
        if season not in context.instance.get_dynamic_partitions(SEASONS_PARTITIONS):
            return SkipReason(f"season {season} is not a partition yet (the sensors add it)")
        return RunRequest(
            run_key=f"race-weekend-{tick_time:%Y-%m-%dT%H:%M}",
            partition_key=season,
            tags={TRIGGER_TAG: "race_weekend_schedule"},
        )

    return _schedule
