"""Blocking checks: counts for all, the first examples (by source line) for those failing."""

from __future__ import annotations

from f1_pipeline.core.steps.checks import Check, evaluate
from f1_pipeline.core.transforms.quality import duplicate_keys, orphan_results
from f1_pipeline.core.transforms.reading import LINE
from f1_pipeline_tests.core.transforms.frames import races, results


def test_failing_checks_name_their_first_lines_and_passing_ones_have_no_examples(spark):
    # Race 7 on lines 2..8 (seven times, reversed rounds so line order is not key order);
    # race 1 once.
    race_df = races(
        spark,
        [(7, 2024, 10 - i, "A", "2024-03-02", None) for i in range(7)]
        + [(1, 2024, 20, "B", "2024-03-09", None)],
    )
    result_df = results(spark, [(1, 1, 44, 1, None, None), (2, 99, 44, 1, None, None)])
    checks = [
        Check("r", "dup", duplicate_keys(race_df, "race_id"),
              ("race_id", "count", "lines"), "lines"),
        Check("r", "round", duplicate_keys(race_df, "season", "round"),
              ("season", "round", "count", "lines"), "lines"),
        Check("x", "orphans", orphan_results(result_df, race_df),
              ("result_id", "race_id", LINE), LINE),
    ]  # fmt: skip
    outcomes, riders = evaluate(checks, {"seasons": race_df.select("season").distinct()})
    dup, rounds, orphans = outcomes
    assert riders == {"seasons": [{"season": 2024}]}  # read in the same action
    assert (dup.passed, dup.metadata["violations"]) == (False, 1)
    assert dup.metadata["examples"] == "race_id=7, count=7, lines=[2, 3, 4, 5, 6, 7, 8]"
    assert rounds.passed
    assert rounds.metadata == {"violations": 0}
    assert orphans.metadata == {
        "violations": 1,
        "examples": "result_id=2, race_id=99, source_line=3",
    }


def test_examples_are_the_first_five_by_line_and_the_rest_counted(spark):
    race_df = races(spark, [(1, 2024, 1, "A", "2024-03-02", None)])
    # Eight orphans; lines 2..9, listed in reverse so the first five must be chosen by line.
    rows = [(100 + i, 50 + i, 44, 1, None, None) for i in range(8)]
    result_df = results(spark, rows).orderBy(LINE, ascending=False)
    [outcome], _ = evaluate(
        [Check("x", "orphans", orphan_results(result_df, race_df), ("result_id", LINE), LINE)]
    )
    assert outcome.metadata["violations"] == 8
    assert outcome.metadata["examples"] == (
        "result_id=100, source_line=2; result_id=101, source_line=3; result_id=102, "
        "source_line=4; result_id=103, source_line=5; result_id=104, source_line=6 (+3 more)"
    )


def test_rider_rows_keep_their_null_columns(spark):
    """Races before 2005 have no start time: a preview row must still have every column
    (Spark's to_json leaves null fields out), or the preview table cannot be drawn."""
    from f1_pipeline.core.steps.metadata import markdown_table

    race_df = races(spark, [(1, 1950, 1, "British Grand Prix", "1950-05-13", None)])
    _, riders = evaluate([], {"preview": race_df.select("race_id", "race_time")})
    assert riders == {"preview": [{"race_id": 1, "race_time": None}]}
    table = markdown_table(riders["preview"], ["race_id", "race_time"])
    assert "| 1 |  |" in str(table)
