"""Cleaned layer: typed, validated races and results as Parquet under ``cleaned/``.

The work is :mod:`f1_pipeline.core.steps.cleaned`, run by the ``step_runner`` resource
locally or on Glue.
"""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset

from f1_pipeline.core.steps.cleaned import CLEANED_RACES as RACES_KEY
from f1_pipeline.core.steps.cleaned import CLEANED_RESULTS as RESULTS_KEY
from f1_pipeline.defs.assets.checks import blocking_check
from f1_pipeline.defs.assets.failures import failure_policy
from f1_pipeline.defs.assets.raw import RAW_RACES, RAW_RESULTS
from f1_pipeline.defs.constants import CLEANED_GROUP
from f1_pipeline.defs.partitions import register_seasons
from f1_pipeline.defs.resources import StepRunnerResource

CLEANED_RACES = AssetKey.from_user_string(RACES_KEY)
CLEANED_RESULTS = AssetKey.from_user_string(RESULTS_KEY)


@asset(
    key=CLEANED_RACES,
    deps=[RAW_RACES],
    group_name=CLEANED_GROUP,
    check_specs=[
        blocking_check(CLEANED_RACES, "race_id_unique", "Each raceId appears once."),
        blocking_check(CLEANED_RACES, "season_round_unique", "Each (year, round) appears once."),
    ],
)
def cleaned_races(context: AssetExecutionContext, step_runner: StepRunnerResource):
    """Typed, validated races (raceId, season, round, name, date, time). Registers every
    season found as a partition of season_stats."""
    with failure_policy(context):
        run = step_runner.run(context, "cleaned_races", {})
        yield from run.checks
        run.raise_error()
    added = register_seasons(context.instance, run.data["seasons"])
    context.log.info(f"new season partitions: {added or 'none'}")
    yield MaterializeResult(metadata={**run.metadata, "new_season_partitions": added})


@asset(
    key=CLEANED_RESULTS,
    deps=[RAW_RESULTS, CLEANED_RACES],
    group_name=CLEANED_GROUP,
    check_specs=[
        blocking_check(CLEANED_RESULTS, "result_id_unique", "Each resultId appears once."),
        blocking_check(
            CLEANED_RESULTS, "race_id_in_races", "Every result's raceId exists in races.csv."
        ),
    ],
)
def cleaned_results(context: AssetExecutionContext, step_runner: StepRunnerResource):
    """Typed, validated results (resultId, raceId, driverId, position, fastest lap as in the
    source and in milliseconds). Also fingerprints every season's races and results, so only
    the seasons an upload changed are republished."""
    with failure_policy(context):
        run = step_runner.run(context, "cleaned_results", {})
        yield from run.checks
        run.raise_error()
    yield MaterializeResult(metadata=run.metadata)


assets = [cleaned_races, cleaned_results]
