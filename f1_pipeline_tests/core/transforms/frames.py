"""Tiny in-memory cleaned tables for transform tests."""

from __future__ import annotations

import datetime as dt

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
