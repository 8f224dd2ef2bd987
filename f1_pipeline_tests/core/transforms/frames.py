"""Tiny in-memory cleaned tables for transform tests."""

from __future__ import annotations

import datetime as dt

from f1_pipeline.core.transforms.cleaning import validated_table
from f1_pipeline.core.transforms.fingerprints import season_summaries
from f1_pipeline.core.transforms.reading import BLOCK, Blocks, block_stats, text_rows
from f1_pipeline.core.transforms.schema import RACES, RESULTS

RACES_SCHEMA = (
    "race_id int, season int, round int, race_name string, race_date date, "
    "race_time string, source_line long"
)
RESULTS_SCHEMA = (
    "result_id int, race_id int, driver_id int, position int, fastest_lap_time string, "
    "fastest_lap_time_ms long, source_line long"
)


def races(spark, rows):
    """rows: (race_id, season, round, name, 'YYYY-MM-DD', time or None)."""
    data = [
        (r[0], r[1], r[2], r[3], dt.date.fromisoformat(r[4]), r[5], i + 2)
        for i, r in enumerate(rows)
    ]
    return spark.createDataFrame(data, RACES_SCHEMA)


def results(spark, rows):
    """rows: (result_id, race_id, driver_id, position or None, lap text or None, lap ms)."""
    return spark.createDataFrame([(*r, i + 2) for i, r in enumerate(rows)], RESULTS_SCHEMA)


def clean_races(spark, path: str, source: str, max_season: int | None = None):
    """The cleaned races of one CSV (validated as the ingest does), uncached."""
    with validated_table(spark, path, RACES, source, max_season, cache=False) as (cleaned, _):
        return cleaned


def clean_results(spark, path: str, source: str, max_season: int | None = None):
    """The cleaned results of one CSV (validated as the ingest does), uncached."""
    with validated_table(spark, path, RESULTS, source, max_season, cache=False) as (cleaned, _):
        return cleaned


def numbered_lines(spark, path: str):
    """``value`` and ``source_line`` (1-based) of every line of ``path``."""
    text = text_rows(spark, path)
    blocks = Blocks.of(r.asDict() for r in text.groupBy(BLOCK).agg(*block_stats(text)).collect())
    return blocks.numbered(text)


def season_fingerprints(races, results):
    """``season``, ``fingerprint`` per season."""
    return season_summaries(races, results).select("season", "fingerprint")
