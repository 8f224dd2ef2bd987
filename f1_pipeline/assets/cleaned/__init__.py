"""Cleaned layer: typed, validated races and results as Parquet under ``cleaned/``."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, ResourceParam, asset
from dagster_pyspark import LazyPySparkResource

from f1_pipeline.assets.cleaned.checks import blocking_check, check_result
from f1_pipeline.assets.cleaned.publish import publish_checked, staged_clean_table
from f1_pipeline.assets.failures import failure_policy
from f1_pipeline.assets.metadata import capped
from f1_pipeline.assets.raw import RAW_RACES, RAW_RESULTS
from f1_pipeline.constants import CLEANED_GROUP
from f1_pipeline.lineage import read_json, write_json
from f1_pipeline.partitions import register_seasons
from f1_pipeline.storage import Storage, layout
from f1_pipeline.transforms.cleaning import clean_races, clean_results
from f1_pipeline.transforms.fingerprints import season_fingerprints
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
    with failure_policy(context):
        with staged_clean_table(storage, spark.spark_session, "races", clean_races) as staged:
            df = staged.df
            checks = [
                check_result(CLEANED_RACES, "race_id_unique", duplicate_keys(df, "race_id"),
                             ("race_id", "count", "lines")),
                check_result(CLEANED_RACES, "season_round_unique",
                             duplicate_keys(df, "season", "round"),
                             ("season", "round", "count", "lines")),
            ]  # fmt: skip
            yield from checks
            metadata = publish_checked(storage, staged, checks)
            seasons = sorted(r["season"] for r in df.select("season").distinct().collect())
        added = register_seasons(context.instance, seasons)
        context.log.info(
            f"{len(seasons)} seasons in races; new season partitions: {added or 'none'}"
        )
        yield MaterializeResult(
            metadata={**metadata, "seasons": seasons, "new_season_partitions": added}
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
    source and in milliseconds). Also fingerprints every season's races and results, so only
    the seasons an upload changed are republished."""
    with failure_policy(context):
        session = spark.spark_session
        with (
            staged_clean_table(storage, session, "results", clean_results) as staged,
            storage.local_copy(layout.cleaned_parquet("races")) as races_path,
        ):
            df, races = staged.df, session.read.parquet(str(races_path))
            checks = [
                check_result(CLEANED_RESULTS, "result_id_unique", duplicate_keys(df, "result_id"),
                             ("result_id", "count", "lines")),
                check_result(CLEANED_RESULTS, "race_id_in_races", orphan_results(df, races),
                             ("result_id", "race_id", LINE)),
            ]  # fmt: skip
            yield from checks
            metadata = publish_checked(storage, staged, checks)
            fingerprints = {
                str(r["season"]): r["fingerprint"] for r in season_fingerprints(races, df).collect()
            }
        races_lineage = read_json(storage, layout.cleaned_lineage("races")) or {}
        sources = {"races": races_lineage.get("source"), "results": metadata["source"]}
        write_json(
            storage, layout.season_fingerprints(), {"sources": sources, "seasons": fingerprints}
        )
        context.log.info(f"cleaned results: {metadata['dagster/row_count']} rows")
        yield MaterializeResult(metadata={**metadata, "season_fingerprints": capped(fingerprints)})


assets = [cleaned_races, cleaned_results]
