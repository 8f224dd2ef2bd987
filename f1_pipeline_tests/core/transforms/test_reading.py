from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from f1_pipeline.core.transforms.errors import InvalidInputError
from f1_pipeline.core.transforms.reading import (
    LINE,
    ROW_ID,
    SKIP,
    parse_header,
    read_csv,
)
from f1_pipeline_tests.conftest import write_csv
from f1_pipeline_tests.core.transforms.frames import numbered_lines


def test_numbered_lines_counts_from_one_across_line_endings(spark, tmp_path):
    path = write_csv(tmp_path / "a.csv", "h\nx\ny\nz", newline="\r\n")
    rows = numbered_lines(spark, str(path)).orderBy(LINE).collect()
    assert [(r["value"], r[LINE]) for r in rows] == [("h", 1), ("x", 2), ("y", 3), ("z", 4)]


def test_numbered_lines_are_exact_across_many_splits(spark, tmp_path):
    # 40k lines over splits of 64 KiB: numbering must stay consecutive and in file order.
    path = tmp_path / "big.csv"
    path.write_text("".join(f"{i}\n" for i in range(1, 40_001)))
    spark.conf.set("spark.sql.files.maxPartitionBytes", "65536")
    try:
        df = numbered_lines(spark, str(path))
        splits = spark.read.text(str(path)).select(F.input_file_block_start()).distinct()
        assert splits.count() > 1
        mismatched = df.filter(df["value"].cast("int") != df[LINE]).count()
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    assert mismatched == 0
    assert df.count() == 40_000


def test_parse_header_strips_bom_quotes_and_spaces():
    assert parse_header('\ufeff"raceId", year ,"name"') == ["raceId", "year", "name"]


def test_read_csv_selects_columns_by_name_and_ignores_extras(spark, tmp_path):
    path = write_csv(
        tmp_path / "r.csv",
        'extra,b,a,more\n1,"x, with comma",\\N,9\n\n2,"say ""hi""",5,9\n',
    )
    rows = read_csv(spark, str(path), "r.csv", ("a", "b")).orderBy(ROW_ID).collect()
    # The header and the blank line are there, marked to skip; the data as text.
    assert [(r["a"], r["b"], r[SKIP]) for r in rows if not r[SKIP]] == [
        ("\\N", "x, with comma", False),
        ("5", 'say "hi"', False),
    ]
    assert [r[SKIP] for r in rows] == [True, False, True, False]


def test_read_csv_names_file_and_missing_columns(spark, tmp_path):
    path = write_csv(tmp_path / "r.csv", "a,c\n1,2\n")
    with pytest.raises(InvalidInputError) as err:
        read_csv(spark, str(path), "source-data/r.csv", ("a", "b"))
    assert str(err.value).startswith("source-data/r.csv, line 1: missing required column(s) b")


def test_read_csv_refuses_an_empty_file(spark, tmp_path):
    path = write_csv(tmp_path / "r.csv", "")
    with pytest.raises(InvalidInputError, match=r"r\.csv, line 1: file is empty"):
        read_csv(spark, str(path), "r.csv", ("a",))
