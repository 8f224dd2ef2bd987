"""The Glue entry script's own logic (the whole script runs in test_glue_mode)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from f1_pipeline.core.steps.io import DirectIO, LocalStagedIO
from f1_pipeline.core.storage import LocalStorage
from f1_pipeline.glue.entry import choose_io, parse_args, seasons_in_range


def test_job_arguments_are_parsed_beside_glues_and_pipes():
    argv = ["--JOB_ID", "j_1", "--f1-spark-io", "direct", "--dagster-pipes-context", "x",
            "--f1-shuffle-partitions", "16", "--JOB_RUN_ID", "jr_1"]  # fmt: skip
    args = parse_args(argv)
    assert (args.f1_spark_io, args.f1_shuffle_partitions) == ("direct", 16)
    assert parse_args([]).f1_spark_io == "auto"


@pytest.mark.parametrize(
    ("choice", "on_glue", "expected"),
    [("auto", True, DirectIO), ("auto", False, LocalStagedIO), ("direct", False, DirectIO),
     ("staged", True, LocalStagedIO)],
)  # fmt: skip
def test_glue_reads_s3_directly_and_local_spark_stages(tmp_path, choice, on_glue, expected):
    assert type(choose_io(choice, on_glue, LocalStorage(tmp_path))) is expected


def _pipes(start: str, end: str) -> SimpleNamespace:
    return SimpleNamespace(
        is_partition_step=True, partition_key_range=SimpleNamespace(start=start, end=end)
    )


def test_seasons_must_match_the_runs_partition_range():
    seasons_in_range(_pipes("2018", "2024"), {"seasons": [2024, 2018, 2020]})
    with pytest.raises(ValueError, match=r"do not match the run's partition range 2018\.\.2023"):
        seasons_in_range(_pipes("2018", "2023"), {"seasons": [2018, 2024]})
    with pytest.raises(ValueError, match="do not match"):
        seasons_in_range(_pipes("2018", "2018"), {"seasons": []})


def test_seasons_registered_out_of_numeric_order_are_accepted():
    # History added after the current seasons: partitions 2019..2024 then 2011, so a run over
    # 2024 and 2011 spans the range 2024..2011 in registration order.
    seasons_in_range(_pipes("2024", "2011"), {"seasons": [2011, 2024]})
    seasons_in_range(
        _pipes("2019", "2011"), {"seasons": [2019, 2020, 2021, 2022, 2023, 2024, 2011]}
    )
    with pytest.raises(ValueError, match="do not match"):
        seasons_in_range(_pipes("2024", "2024"), {"seasons": [2011, 2024]})
