"""Per-season content fingerprints and summaries: to republish only the seasons an upload
changed, and to hold an upload that would remove published data."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

# The columns that feed the season's stats. Source line numbers are left out on
# purpose: inserting a row for one season shifts the lines of every other one.
RACE_COLUMNS = ("race_id", "season", "round", "race_name", "race_date", "race_time")
RESULT_COLUMNS = ("result_id", "race_id", "driver_id", "position", "fastest_lap_time")

_DIGITS = "decimal(38,0)"  # a sum of millions of 64-bit hashes fits with room to spare


def season_summaries(races: DataFrame, results: DataFrame) -> DataFrame:
    """Per season: ``fingerprint`` (see below), ``races``, ``results`` (row counts),
    ``rounds`` and ``winners`` (its rounds, and those with a position-1 result, sorted),
    ``raced`` (the races that have results: round -> name; a race that has been run never
    leaves the record). One row per season, in no order.

    The fingerprint is order-independent (the season's row count and a sum of row hashes),
    so reordering the CSV changes nothing, while any edit, addition or removal changes it.
    Results count towards the season of their race (results of no race have none).
    """
    race_rows = races.groupBy("season").agg(
        F.count(F.lit(1)).alias("races"),
        F.sum(F.xxhash64(*RACE_COLUMNS).cast(_DIGITS)).alias("_race_total"),
        F.sort_array(F.collect_list("round")).alias("rounds"),
    )
    result_rows = (
        results.join(races.select("race_id", "season", "round", "race_name"), "race_id")
        .groupBy("season")
        .agg(
            F.count(F.lit(1)).alias("results"),
            F.sum(F.xxhash64(*RESULT_COLUMNS).cast(_DIGITS)).alias("_result_total"),
            F.sort_array(F.collect_set(F.when(F.col("position") == 1, F.col("round")))).alias(
                "winners"
            ),
            F.map_from_entries(
                F.array_distinct(
                    F.collect_list(F.struct(F.col("round").cast("string"), F.col("race_name")))
                )
            ).alias("raced"),
        )
    )
    joined = race_rows.join(result_rows, "season", "left")
    results_count = F.coalesce(F.col("results"), F.lit(0))
    total = F.col("_race_total") + F.coalesce(F.col("_result_total"), F.lit(0).cast(_DIGITS))
    return joined.select(
        "season",
        F.concat_ws(
            ":", (F.col("races") + results_count).cast("string"), total.cast(_DIGITS).cast("string")
        ).alias("fingerprint"),
        "races",
        results_count.alias("results"),
        "rounds",
        F.coalesce(F.col("winners"), F.array().cast("array<int>")).alias("winners"),
        F.coalesce(F.col("raced"), F.create_map().cast("map<string,string>")).alias("raced"),
    )
