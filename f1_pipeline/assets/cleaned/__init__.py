"""Cleaned layer: typed, validated races and results as Parquet under ``cleaned/``."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, ResourceParam, asset
from dagster_pyspark import LazyPySparkResource

from f1_pipeline.assets.cleaned.checks import blocking_check, check_result, fail_on_failed_checks
from f1_pipeline.assets.failures import bad_input_fails_run
from f1_pipeline.assets.metadata import dataframe_metadata, object_metadata
from f1_pipeline.assets.raw import RAW_RACES, RAW_RESULTS
from f1_pipeline.constants import CLEANED_GROUP
from f1_pipeline.partitions import register_seasons
from f1_pipeline.staging import staging_dir, write_single_parquet
from f1_pipeline.storage import Storage, layout
from f1_pipeline.transforms.cleaning import clean_races, clean_results
from f1_pipeline.transforms.quality import duplicate_keys, orphan_results
from f1_pipeline.transforms.reading import LINE

CLEANED_RACES = AssetKey(["cleaned", "races"])
CLEANED_RESULTS = AssetKey(["cleaned", "results"])


@asset(
    key=CLEANED_RACES,
    deps=[RAW_RACES],
    group_name=CLEANED_GROUP,
    check_specs=[
        blocking_check(CLEANED_RACES, "race_id_unique", "Each raceId appears once."),
        blocking_check(CLEANED_RACES, "season_round_unique", "Each (year, round) appears once."),
    ],
)
def cleaned_races(
    context: AssetExecutionContext, storage: ResourceParam[Storage], spark: LazyPySparkResource
):
    """Typed, validated races (raceId, season, round, name, date, time). Registers every
    season found as a partition of season_stats."""
    session = spark.spark_session
    source = layout.source_csv("races")
    with bad_input_fails_run(), storage.local_copy(source) as path, staging_dir() as tmp:
        staged = write_single_parquet(
            clean_races(session, str(path), storage.uri(source)), tmp, "r"
        )
        table = session.read.parquet(str(staged))
        checks = [
            check_result(
                CLEANED_RACES,
                "race_id_unique",
                duplicate_keys(table, "race_id"),
                ("race_id", "count", "lines"),
            ),
            check_result(
                CLEANED_RACES,
                "season_round_unique",
                duplicate_keys(table, "season", "round"),
                ("season", "round", "count", "lines"),
            ),
        ]
        yield from checks
        fail_on_failed_checks(storage.uri(source), checks)
        seasons = sorted(r["season"] for r in table.select("season").distinct().collect())
        metadata = dataframe_metadata(table.drop(LINE), table.count())
        info = storage.publish_file(staged, layout.cleaned_parquet("races"))
    added = register_seasons(context.instance, seasons)
    context.log.info(f"{len(seasons)} seasons in races; new season partitions: {added or 'none'}")
    yield MaterializeResult(
        metadata={
            **metadata,
            **object_metadata(storage, info),
            "seasons": seasons,
            "new_season_partitions": added,
        }
    )


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
def cleaned_results(
    context: AssetExecutionContext, storage: ResourceParam[Storage], spark: LazyPySparkResource
):
    """Typed, validated results (resultId, raceId, driverId, position, fastest lap as in the
    source and in milliseconds)."""
    session = spark.spark_session
    source = layout.source_csv("results")
    with (
        bad_input_fails_run(),
        storage.local_copy(source) as path,
        storage.local_copy(layout.cleaned_parquet("races")) as races_path,
        staging_dir() as tmp,
    ):
        cleaned = clean_results(session, str(path), storage.uri(source))
        staged = write_single_parquet(cleaned, tmp, "r")
        table = session.read.parquet(str(staged))
        races = session.read.parquet(str(races_path))
        checks = [
            check_result(
                CLEANED_RESULTS,
                "result_id_unique",
                duplicate_keys(table, "result_id"),
                ("result_id", "count", "lines"),
            ),
            check_result(
                CLEANED_RESULTS,
                "race_id_in_races",
                orphan_results(table, races),
                ("result_id", "race_id", LINE),
            ),
        ]
        yield from checks
        fail_on_failed_checks(storage.uri(source), checks)
        metadata = dataframe_metadata(table.drop(LINE), table.count())
        info = storage.publish_file(staged, layout.cleaned_parquet("results"))
    context.log.info(f"cleaned results: {metadata['dagster/row_count']} rows")
    yield MaterializeResult(metadata={**metadata, **object_metadata(storage, info)})


assets = [cleaned_races, cleaned_results]
