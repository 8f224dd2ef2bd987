"""Stats layer: per-season ``results/stats_{year}.json`` (the contract) and Parquet tables.

The work is :mod:`f1_pipeline.core.steps.stats`, run by the ``step_runner`` resource
locally or on Glue.
"""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    MaterializeResult,
    asset,
)

from f1_pipeline.core.steps.stats import SEASON_STATS as STATS_KEY
from f1_pipeline.defs.assets.cleaned import CLEANED_RACES, CLEANED_RESULTS
from f1_pipeline.defs.constants import SEASONS_POOL, STATS_GROUP
from f1_pipeline.defs.failures import failure_policy
from f1_pipeline.defs.metadata import add_partition_metadata, to_dagster
from f1_pipeline.defs.partitions import season_partitions
from f1_pipeline.defs.resources import StepRunnerResource

SEASON_STATS = AssetKey.from_user_string(STATS_KEY)


@asset(
    key=SEASON_STATS,
    deps=[CLEANED_RACES, CLEANED_RESULTS],
    group_name=STATS_GROUP,
    partitions_def=season_partitions,
    # Many seasons in one run are one Spark job, not one session per season.
    backfill_policy=BackfillPolicy.single_run(),
    pool=SEASONS_POOL,
)
def season_stats(
    context: AssetExecutionContext, step_runner: StepRunnerResource
) -> MaterializeResult:
    """Per season: results/stats_{year}.json (one element per race, sorted by round: name,
    round, UTC datetime, winning driverId, the winner's fastest lap) and a Parquet table that
    adds the race's overall fastest lap, its driver and lap times in milliseconds."""
    with failure_policy(context):
        seasons = sorted(int(k) for k in context.partition_keys)
        run = step_runner.run(context, "season_stats", {"seasons": seasons})
        run.raise_error()
    withdrawn = run.data.get("withdrawn", [])
    if withdrawn:
        context.log.warning(f"withdrawn (no races in the data any more): {withdrawn}")
    # Each season partition's event carries that season's own facts; the run's shared
    # metadata (MaterializeResult) is added to all of them.
    per_season = run.data.get("season_metadata", {})
    add_partition_metadata(
        context,
        {
            key: to_dagster(per_season[key])
            if key in per_season
            else {"withdrawn": True, "dagster/row_count": 0}
            for key in context.partition_keys
        },
    )
    return MaterializeResult(metadata=run.materializations[STATS_KEY])


assets = [season_stats]
