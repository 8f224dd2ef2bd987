"""Per-race stats for the requested seasons, one row per race."""

from __future__ import annotations

from collections.abc import Iterable

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

STATS_COLUMNS = (
    "season",
    "round",
    "race_id",
    "race_name",
    "race_datetime",
    "race_start_utc",
    "winner_driver_id",
    "winner_fastest_lap_time",
    "winner_fastest_lap_ms",
    "fastest_lap_time",
    "fastest_lap_ms",
    "fastest_lap_driver_id",
    "winner_rows",
)


def _first_per_race(df: DataFrame, *order: str) -> DataFrame:
    window = Window.partitionBy("race_id").orderBy(*order)
    return df.withColumn("_rn", F.row_number().over(window)).filter("_rn = 1").drop("_rn")


def race_winners(results: DataFrame) -> DataFrame:
    """The position-1 row of each race; with a shared drive, the lowest resultId.

    ``winner_rows`` counts the race's position-1 rows so shared drives can be reported.
    """
    firsts = results.filter(F.col("position") == 1).withColumn(
        "winner_rows", F.count(F.lit(1)).over(Window.partitionBy("race_id"))
    )
    return _first_per_race(firsts, "result_id").select(
        "race_id",
        F.col("driver_id").alias("winner_driver_id"),
        F.col("fastest_lap_time").alias("winner_fastest_lap_time"),
        F.col("fastest_lap_time_ms").alias("winner_fastest_lap_ms"),
        "winner_rows",
    )


def race_fastest_laps(results: DataFrame) -> DataFrame:
    """The race's overall fastest lap and its driver (ties: lowest resultId)."""
    laps = results.filter(F.col("fastest_lap_time_ms").isNotNull())
    return _first_per_race(laps, "fastest_lap_time_ms", "result_id").select(
        "race_id",
        "fastest_lap_time",
        F.col("fastest_lap_time_ms").alias("fastest_lap_ms"),
        F.col("driver_id").alias("fastest_lap_driver_id"),
    )


def race_datetime(race_date: str, race_time: str) -> F.Column:
    """``YYYY-MM-DDTHH:MM:SS.000``; midnight when the time is missing."""
    return F.format_string(
        "%sT%s.000",
        F.date_format(race_date, "yyyy-MM-dd"),
        F.coalesce(F.col(race_time), F.lit("00:00:00")),
    )


def _race_start_utc(race_date: str, race_time: str) -> F.Column:
    time = F.coalesce(F.col(race_time), F.lit("00:00:00"))
    return F.make_timestamp(
        F.year(race_date),
        F.month(race_date),
        F.dayofmonth(race_date),
        F.substring(time, 1, 2).cast("int"),
        F.substring(time, 4, 2).cast("int"),
        F.substring(time, 7, 2).cast("decimal(8,6)"),
        F.lit("UTC"),
    )


def race_stats(
    races: DataFrame, results: DataFrame, seasons: Iterable[int] | None = None
) -> DataFrame:
    """One row per race of ``seasons`` (all when None), races without results included. In
    no order (a global sort is a Spark job of its own): callers order the rows they collect
    (:func:`f1_pipeline.core.contract.rows_by_season`)."""
    if seasons is not None:
        races = races.filter(F.col("season").isin([int(s) for s in seasons]))
    results = results.join(races.select("race_id"), "race_id", "left_semi")
    joined = (
        races.join(race_winners(results), "race_id", "left")
        .join(race_fastest_laps(results), "race_id", "left")
        .withColumn("race_datetime", race_datetime("race_date", "race_time"))
        .withColumn("race_start_utc", _race_start_utc("race_date", "race_time"))
        .withColumn("winner_rows", F.coalesce("winner_rows", F.lit(0)))
    )
    return joined.select(*STATS_COLUMNS)


def with_epoch_micros(stats: DataFrame) -> DataFrame:
    """``race_start_utc`` as microseconds since the epoch, for rows collected to Python: a
    collected timestamp becomes a naive datetime in the host's time zone, which a Parquet
    writer would then take for UTC (hours off on any host not in UTC)."""
    return stats.withColumn("race_start_utc", F.unix_micros("race_start_utc"))
