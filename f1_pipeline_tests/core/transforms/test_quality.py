from __future__ import annotations

from f1_pipeline.core.transforms.quality import describe_violations, duplicate_keys, orphan_results
from f1_pipeline_tests.core.transforms.frames import races, results


def test_duplicate_keys_reports_count_and_lines(spark):
    df = races(
        spark,
        [
            (1, 2024, 1, "A", "2024-03-02", None),
            (2, 2024, 2, "B", "2024-03-09", None),
            (1, 2024, 3, "C", "2024-03-16", None),
        ],
    )
    assert [r.asDict() for r in duplicate_keys(df, "race_id").collect()] == [
        {"race_id": 1, "count": 2, "lines": [2, 4]}
    ]
    assert duplicate_keys(df, "season", "round").count() == 0


def test_orphan_results_are_results_without_a_race(spark):
    race_df = races(spark, [(1, 2024, 1, "A", "2024-03-02", None)])
    result_df = results(spark, [(1, 1, 44, 1, None, None), (2, 99, 44, 1, None, None)])
    assert [(r.result_id, r.race_id) for r in orphan_results(result_df, race_df).collect()] == [
        (2, 99)
    ]


def test_describe_violations_limits_examples():
    rows = [{"k": i} for i in range(10)]
    assert describe_violations(rows, ("k",), limit=2) == "k=0; k=1"
