from __future__ import annotations

from f1_pipeline_tests.core.transforms.frames import races, results, season_fingerprints

RACES = [
    (1, 2023, 1, "A", "2023-03-05", None),
    (2, 2024, 1, "B", "2024-03-02", "15:00:00"),
    (3, 2024, 2, "C", "2024-03-09", "17:00:00"),
]
RESULTS = [
    (10, 1, 44, 1, "1:30.000", 90000),
    (11, 2, 1, 1, "1:31.000", 91000),
    (12, 3, 1, 1, None, None),
]


def _fps(spark, race_rows, result_rows):
    df = season_fingerprints(races(spark, race_rows), results(spark, result_rows))
    return {r.season: r.fingerprint for r in df.collect()}


def test_one_fingerprint_per_season_independent_of_row_order(spark):
    base = _fps(spark, RACES, RESULTS)
    assert sorted(base) == [2023, 2024]
    assert _fps(spark, list(reversed(RACES)), list(reversed(RESULTS))) == base


def test_a_change_in_one_season_changes_only_that_fingerprint(spark):
    base = _fps(spark, RACES, RESULTS)
    added = _fps(spark, RACES, [*RESULTS, (13, 3, 16, 2, "1:32.000", 92000)])
    assert added[2023] == base[2023]
    assert added[2024] != base[2024]
    edited = _fps(spark, RACES, [(10, 1, 44, 1, "1:29.999", 89999), *RESULTS[1:]])
    assert edited[2023] != base[2023]
    assert edited[2024] == base[2024]
