"""After every race weekend, republish the current season."""

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from f1_pipeline.defs.constants import SEASONS_PARTITIONS, TRIGGER_TAG
from f1_pipeline.defs.jobs import season_stats_job


def race_weekend_schedule(cron: str) -> ScheduleDefinition:
    """Materialise the tick's season (the year of its scheduled time, UTC) on ``cron``.
    A season with no data yet is a clean skip."""

    @schedule(
        name="race_weekend_schedule",
        cron_schedule=cron,
        execution_timezone="UTC",
        job=season_stats_job,
        default_status=DefaultScheduleStatus.RUNNING,
        description=f"Republishes the current season's stats after race weekends ({cron} UTC).",
    )
    def _schedule(context: ScheduleEvaluationContext):
        tick_time = context.scheduled_execution_time
        season = str(tick_time.year)
        if season not in context.instance.get_dynamic_partitions(SEASONS_PARTITIONS):
            return SkipReason(f"season {season} has no data yet")
        return RunRequest(
            run_key=f"race-weekend-{tick_time:%Y-%m-%dT%H:%M}",
            partition_key=season,
            tags={TRIGGER_TAG: "race_weekend_schedule"},
        )

    return _schedule
