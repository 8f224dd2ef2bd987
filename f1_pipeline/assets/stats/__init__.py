"""Stats layer: per-season ``results/stats_{year}.json`` (the contract) and Parquet tables."""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    Failure,
    MaterializeResult,
    ResourceParam,
    asset,
)
from dagster_pyspark import LazyPySparkResource

from f1_pipeline.assets.cleaned import CLEANED_RACES, CLEANED_RESULTS
from f1_pipeline.assets.failures import failure_policy
from f1_pipeline.assets.stats.publish import (
    publish_season_files,
    shared_drives,
    stats_metadata,
)
from f1_pipeline.constants import STATS_GROUP
from f1_pipeline.contract import rows_by_season
from f1_pipeline.lineage import read_json
from f1_pipeline.partitions import season_partitions
from f1_pipeline.storage import Storage, layout
from f1_pipeline.transforms.stats import season_stats as compute_season_stats

SEASON_STATS = AssetKey(["results", "season_stats"])


@asset(
    key=SEASON_STATS,
    deps=[CLEANED_RACES, CLEANED_RESULTS],
    group_name=STATS_GROUP,
    partitions_def=season_partitions,
    # Many seasons in one run are one Spark job, not one session per season.
    backfill_policy=BackfillPolicy.single_run(),
)
def season_stats(
    context: AssetExecutionContext, storage: ResourceParam[Storage], spark: LazyPySparkResource
) -> MaterializeResult:
    """Per season: results/stats_{year}.json (one element per race, sorted by round: name,
    round, UTC datetime, winning driverId, the winner's fastest lap) and a Parquet table that
    adds the race's overall fastest lap, its driver and lap times in milliseconds."""
    with failure_policy(context):
        seasons = sorted(int(k) for k in context.partition_keys)
        session = spark.spark_session
        # Read before the tables: fingerprints describe the cleaned tables they sit beside.
        lineage = read_json(storage, layout.season_fingerprints()) or {}
        with (
            storage.local_copy(layout.cleaned_parquet("races")) as races_path,
            storage.local_copy(layout.cleaned_parquet("results")) as results_path,
        ):
            races = session.read.parquet(str(races_path))
            results = session.read.parquet(str(results_path))
            rows = [r.asDict() for r in compute_season_stats(races, results, seasons).collect()]
        by_season = rows_by_season(rows)
        missing = [s for s in seasons if s not in by_season]
        if missing:
            races_uri = storage.uri(layout.cleaned_parquet("races"))
            raise Failure(
                description=f"season(s) {missing} have no races in {races_uri}", allow_retries=False
            )
        files = publish_season_files(storage, by_season, lineage, context.run.run_id)
        for race in shared_drives(rows):
            context.log.warning(
                f"{race['season']} round {race['round']} ({race['race_name']}): "
                f"{race['winner_rows']} position-1 rows (shared drive); winner taken from the "
                "lowest resultId"
            )
        context.log.info(f"published {len(files)} files for {len(seasons)} season(s)")
        return MaterializeResult(metadata=stats_metadata(storage, rows, files, lineage))


assets = [season_stats]
