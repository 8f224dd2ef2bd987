"""Data-quality predicates behind the asset checks. Each returns the offending rows."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from f1_pipeline.core.transforms.reading import LINE


def duplicate_keys(df: DataFrame, *key: str) -> DataFrame:
    """Key values that occur more than once, with their count and source lines."""
    return (
        df.groupBy(*key)
        .agg(F.count(F.lit(1)).alias("count"), F.sort_array(F.collect_list(LINE)).alias("lines"))
        .filter(F.col("count") > 1)
        .orderBy(F.col("lines")[0])
    )


def orphan_results(results: DataFrame, races: DataFrame) -> DataFrame:
    """Results whose raceId has no race."""
    return results.join(races.select("race_id"), "race_id", "left_anti").orderBy(LINE)


def describe_violations(rows: list, columns: tuple[str, ...], limit: int = 5) -> str:
    """A short human-readable list of offending rows for check descriptions."""
    return "; ".join(", ".join(f"{c}={row[c]}" for c in columns) for row in rows[:limit])
