"""The full Ergast export format is accepted unchanged."""

from __future__ import annotations

import json

from f1_pipeline.core.contract import contract_json, rows_by_season
from f1_pipeline.core.transforms.stats import race_stats
from f1_pipeline_tests.conftest import FIXTURES
from f1_pipeline_tests.core.transforms.frames import clean_races, clean_results
from f1_pipeline_tests.reference_pandas import stats_by_season

ERGAST = FIXTURES / "ergast"

EXPECTED = {
    1951: [
        {
            "Race Name": "French Grand Prix",
            "Race Round": 4,
            "Race Datetime": "1951-07-01T00:00:00.000",
            # Shared drive: the position-1 row with the lowest resultId.
            "Race Winning driverId": 632,
            "Race Fastest Lap": None,
        }
    ],
    2009: [
        {
            "Race Name": "Australian Grand Prix",
            "Race Round": 1,
            "Race Datetime": "2009-03-29T06:00:00.000",
            "Race Winning driverId": 18,
            # The winner's lap as written in the source, not the race minimum (1:27.706).
            "Race Fastest Lap": "1:28.020",
        },
        {
            "Race Name": "Malaysian Grand Prix",
            "Race Round": 2,
            "Race Datetime": "2009-04-05T09:00:00.000",
            "Race Winning driverId": None,
            "Race Fastest Lap": None,
        },
        {
            "Race Name": 'Chinese Grand Prix, "wet"',
            "Race Round": 3,
            "Race Datetime": "2009-04-19T07:00:00.000",
            "Race Winning driverId": 20,
            "Race Fastest Lap": None,
        },
    ],
    2024: [
        {
            "Race Name": "São Paulo Grand Prix",
            "Race Round": 21,
            "Race Datetime": "2024-11-03T17:00:00.000",
            "Race Winning driverId": 830,
            "Race Fastest Lap": "1:20.853",
        }
    ],
}


def test_ergast_export_gives_the_contract(spark):
    races = clean_races(spark, str(ERGAST / "races.csv"), "races.csv")
    results = clean_results(spark, str(ERGAST / "results.csv"), "results.csv")
    rows = [r.asDict() for r in race_stats(races, results).collect()]
    out = {s: json.loads(contract_json(rs)) for s, rs in rows_by_season(rows).items()}
    assert out == EXPECTED
    assert stats_by_season(ERGAST / "races.csv", ERGAST / "results.csv") == EXPECTED

    by_race = {r["race_id"]: r for r in rows}
    assert by_race[1]["fastest_lap_time"] == "1:27.706"
    assert by_race[1]["fastest_lap_ms"] == 87706
    assert by_race[1]["fastest_lap_driver_id"] == 22
    assert by_race[800]["winner_rows"] == 2
