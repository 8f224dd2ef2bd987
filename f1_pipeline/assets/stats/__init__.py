"""Stats layer: per-season ``results/stats_{year}.json`` (the contract) and Parquet tables."""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    Failure,
    MaterializeResult,
    MetadataValue,
    ResourceParam,
    asset,
)
from dagster_pyspark import LazyPySparkResource

from f1_pipeline.assets.cleaned import CLEANED_RACES, CLEANED_RESULTS
from f1_pipeline.assets.metadata import METADATA_ITEMS, capped, markdown_table
from f1_pipeline.assets.stats.publish import publish_season_files
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
    shared = [r for r in rows if r["winner_rows"] > 1]
    for r in shared:
        context.log.warning(
            f"{r['season']} round {r['round']} ({r['race_name']}): {r['winner_rows']} position-1 "
            f"rows (shared drive); winner taken from the lowest resultId"
        )
    context.log.info(f"published {len(files)} files for {len(seasons)} season(s)")
    # Dagster copies this metadata onto every partition's event: keep it bounded.
    return MaterializeResult(
        metadata={
            "seasons": capped(seasons),
            "season_count": len(seasons),
            "races_per_season": capped({str(s): len(r) for s, r in by_season.items()}),
            "dagster/row_count": len(rows),
            "file_count": len(files),
            "files": capped([storage.uri(k) for k in files]),
            "source_versions": lineage.get("sources", {}),
            "manifest": MetadataValue.path(storage.uri(layout.manifest())),
            "shared_drive_races": markdown_table(
                shared[:METADATA_ITEMS], ("season", "round", "race_name", "winner_rows")
            ),
            "shared_drive_race_count": len(shared),
            "preview": markdown_table(
                rows[:5],
                (
                    "season",
                    "round",
                    "race_name",
                    "race_datetime",
                    "winner_driver_id",
                    "winner_fastest_lap_time",
                ),
            ),
            "results_dir": MetadataValue.path(storage.uri(layout.RESULTS_PREFIX)),
        }
    )


assets = [season_stats]
