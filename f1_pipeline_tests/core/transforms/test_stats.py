from __future__ import annotations

import datetime as dt

from f1_pipeline.core.transforms.stats import (
    race_fastest_laps,
    race_stats,
    race_winners,
    with_epoch_micros,
)
from f1_pipeline_tests.core.transforms.frames import races, results

RACES = [
    (10, 2024, 2, "Second", "2024-03-09", "17:00:00"),
    (11, 2024, 1, "First", "2024-03-02", None),
    (12, 2024, 3, "No results yet", "2024-03-24", "04:00:00"),
    (20, 1951, 4, "French", "1951-07-01", None),
]
RESULTS = [
    (1, 10, 44, 1, "01:29.4", 89400),
    (2, 10, 1, 2, "01:28.3", 88300),
    (3, 11, 1, 1, None, None),
    (4, 11, 44, None, "1:31.0", 91000),
    # Shared drive: two position-1 rows; the lowest resultId wins.
    (8, 20, 579, 1, None, None),
    (6, 20, 642, 1, "2:27.1", 147100),
]


def test_winner_is_position_one_with_lowest_result_id(spark):
    rows = race_winners(results(spark, RESULTS)).orderBy("race_id").collect()
    assert [
        (r.race_id, r.winner_driver_id, r.winner_fastest_lap_time, r.winner_rows) for r in rows
    ] == [
        (10, 44, "01:29.4", 1),
        (11, 1, None, 1),
        (20, 642, "2:27.1", 2),
    ]


def test_overall_fastest_lap_is_the_race_minimum(spark):
    rows = race_fastest_laps(results(spark, RESULTS)).orderBy("race_id").collect()
    assert [
        (r.race_id, r.fastest_lap_time, r.fastest_lap_ms, r.fastest_lap_driver_id) for r in rows
    ] == [
        (10, "01:28.3", 88300, 1),
        (11, "1:31.0", 91000, 44),
        (20, "2:27.1", 147100, 642),
    ]


def test_season_stats_one_row_per_race(spark):
    out = sorted(race_stats(races(spark, RACES), results(spark, RESULTS), [2024]).collect(),
                 key=lambda r: r.round)  # fmt: skip
    assert [(r.round, r.race_name, r.race_datetime, r.winner_driver_id) for r in out] == [
        (1, "First", "2024-03-02T00:00:00.000", 1),
        (2, "Second", "2024-03-09T17:00:00.000", 44),
        (3, "No results yet", "2024-03-24T04:00:00.000", None),
    ]
    second = out[1]
    assert (second.winner_fastest_lap_time, second.fastest_lap_time) == ("01:29.4", "01:28.3")
    # Collected to Python a timestamp is a naive host-local datetime: rows leave Spark with
    # the start as epoch microseconds (UTC on any host).
    [micros] = (
        with_epoch_micros(race_stats(races(spark, RACES), results(spark, RESULTS), [2024]))
        .filter("round = 2")
        .select("race_start_utc")
        .first()
    )
    assert micros == int(dt.datetime(2024, 3, 9, 17, 0, tzinfo=dt.UTC).timestamp() * 1_000_000)

    assert out[2].winner_rows == 0


def test_season_stats_all_seasons_when_none_given(spark):
    out = sorted(race_stats(races(spark, RACES), results(spark, RESULTS)).collect(),
                 key=lambda r: (r.season, r.round))  # fmt: skip
    assert [(r.season, r.round) for r in out] == [(1951, 4), (2024, 1), (2024, 2), (2024, 3)]
    assert out[0].winner_rows == 2


def test_season_stats_unknown_season_is_empty(spark):
    assert race_stats(races(spark, RACES), results(spark, RESULTS), [1999]).count() == 0
