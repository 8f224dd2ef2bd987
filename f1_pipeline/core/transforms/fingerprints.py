"""Per-season content fingerprints, to republish only the seasons an upload changed."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

# The columns that feed the season's stats. Source line numbers are left out on
# purpose: inserting a row for one season shifts the lines of every other one.
RACE_COLUMNS = ("race_id", "season", "round", "race_name", "race_date", "race_time")
RESULT_COLUMNS = ("result_id", "race_id", "driver_id", "position", "fastest_lap_time")


def season_fingerprints(races: DataFrame, results: DataFrame) -> DataFrame:
    """``season``, ``fingerprint``: a digest of the season's races and results rows.

    Order-independent (a sum of row hashes, plus the row count), so reordering the
    CSV changes nothing, while any edit, addition or removal changes the digest.
    """
    race_hashes = races.select("season", F.xxhash64(*RACE_COLUMNS).alias("h"))
    result_hashes = results.join(races.select("race_id", "season"), "race_id").select(
        "season", F.xxhash64(*RESULT_COLUMNS).alias("h")
    )
    return (
        race_hashes.unionByName(result_hashes)
        .groupBy("season")
        .agg(
            F.count(F.lit(1)).alias("rows"),
            F.sum(F.col("h").cast("decimal(38,0)")).alias("total"),
        )
        .select(
            "season",
            F.concat_ws(":", F.col("rows").cast("string"), F.col("total").cast("string")).alias(
                "fingerprint"
            ),
        )
        .orderBy("season")
    )
