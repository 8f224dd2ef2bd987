"""Stats layer: per-season ``results/stats_{year}.json`` (the contract) and Parquet tables.

The work is :mod:`f1_pipeline.core.steps.stats`, run by the ``step_runner`` resource locally
or on Glue: of the run's seasons, those whose data or code changed are rewritten, the others
keep their files and their record says "unchanged" with their versions.
"""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    RetryRequested,
    asset,
)

from f1_pipeline.core.code_version import code_versions
from f1_pipeline.core.lineage import read_commit
from f1_pipeline.core.steps.stats import SEASON_STATS as STATS_KEY
from f1_pipeline.defs.assets.cleaned import CLEANED_RACES, CLEANED_RESULTS
from f1_pipeline.defs.constants import PER_SEASON_METADATA_MAX, SEASONS_POOL, STATS_GROUP
from f1_pipeline.defs.failures import failure_policy
from f1_pipeline.defs.metadata import to_dagster
from f1_pipeline.defs.partitions import season_partitions
from f1_pipeline.defs.resources import CatalogResource, StepRunnerResource
from f1_pipeline.defs.retries import RETRY_POLICY

# A season run that finds no cleaned data while another run is ingesting the first upload
# (its seasons are partitions as soon as the sensor requests it, so a backfill can start
# first) asks Dagster to run the step again later: every 5 s, for up to 10 minutes.
WAIT_FOR_INGEST = RetryRequested(max_retries=120, seconds_to_wait=5)

SEASON_STATS = AssetKey.from_user_string(STATS_KEY)


@asset(
    key=SEASON_STATS,
    deps=[CLEANED_RACES, CLEANED_RESULTS],
    group_name=STATS_GROUP,
    partitions_def=season_partitions,
    # Many seasons in one run are one Spark job, not one session per season.
    backfill_policy=BackfillPolicy.single_run(),
    pool=SEASONS_POOL,
    retry_policy=RETRY_POLICY,
    code_version=code_versions()["stats"],
)
def season_stats(
    context: AssetExecutionContext, step_runner: StepRunnerResource, catalog: CatalogResource
) -> MaterializeResult:
    """Per season: results/stats_{year}.json (one element per race, sorted by round: name,
    round, UTC datetime, winning driverId, the winner's fastest lap) and a Parquet table that
    adds the race's overall fastest lap, its driver and lap times in milliseconds."""
    keys = context.partition_keys
    _wait_for_a_first_ingest(context, step_runner)
    with failure_policy(context):
        run = step_runner.run(context, "season_stats", {"seasons": keys})
        run.raise_error()
        # The Glue Data Catalog follows what is published (idempotent: a retry, or the next
        # publish, repairs a registration that failed).
        registered = catalog.register()
    if registered is not None:
        tables, added, removed = registered
        changed = {t: what for t, what in tables.items() if what != "unchanged"}
        context.log.info(f"catalog {catalog.table_name(STATS_KEY)}: partitions added "
                         f"{added or 'none'}, removed {removed or 'none'}; tables "
                         f"{changed or 'unchanged'}")  # fmt: skip
    per_season = run.data.get("season_metadata", {})
    metadata = dict(run.materializations[STATS_KEY])
    if len(keys) <= PER_SEASON_METADATA_MAX:
        # Each season's event carries its own facts; the run's shared metadata (the
        # MaterializeResult's) is added to every one of them, so it is small.
        for key in keys:
            context.add_asset_metadata(to_dagster(per_season.get(key, {})), partition_key=key)
    else:
        metadata["per_season"] = MetadataValue.text(
            f"{len(keys)} seasons: each season's files, versions and fingerprint are in the "
            "manifest"
        )
    return MaterializeResult(metadata=metadata)


def _wait_for_a_first_ingest(context: AssetExecutionContext, step_runner: StepRunnerResource):
    """No cleaned data yet, but another run is writing it: retried by Dagster until it is
    there (without such a run, the step says "no cleaned data yet: ingest an upload")."""
    from f1_pipeline.defs.sensors.runs import runs_in_flight  # the sensors import the assets

    if read_commit(step_runner.storage.get()) is not None:
        return
    # Whole-job runs count as writing them (their assets are not told apart here): at worst
    # a first ingest also waits for a checks-only run, which takes seconds.
    ingesting = [
        run_id
        for run_id in runs_in_flight(context.instance, [CLEANED_RACES, CLEANED_RESULTS])
        if run_id != context.run.run_id
    ]
    if ingesting:
        context.log.info(f"no cleaned data yet; run {ingesting[0]} is ingesting: waiting for it")
        raise WAIT_FOR_INGEST


assets = [season_stats]
