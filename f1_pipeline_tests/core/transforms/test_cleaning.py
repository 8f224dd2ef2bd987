from __future__ import annotations

import datetime as dt

import pytest

from f1_pipeline.core.transforms.cleaning import (
    lap_time_ms,
    normalise_nulls,
    parse_date,
    parse_int,
    parse_time,
)
from f1_pipeline.core.transforms.errors import InvalidInputError
from f1_pipeline.core.transforms.reading import LINE
from f1_pipeline_tests.conftest import write_csv
from f1_pipeline_tests.core.transforms.frames import clean_races, clean_results


def _apply(spark, fn, values):
    """``fn`` (SQL text of the SQL text of a value) over ``values``."""
    df = spark.createDataFrame([(v,) for v in values], "v string")
    return [r[0] for r in df.selectExpr(fn("v")).collect()]


def test_normalise_nulls(spark):
    values = ["", "null", "NULL", "\\N", "  ", " x ", "0"]
    assert _apply(spark, normalise_nulls, values) == [None] * 5 + ["x", "0"]


def test_parse_time(spark):
    values = ["13:00:00", "6:00", "06:00:00Z", "24:00:00", "12:60:00", "noon", None]
    assert _apply(spark, parse_time, values) == [
        "13:00:00",
        "06:00:00",
        "06:00:00",
        None,
        None,
        None,
        None,
    ]


def test_lap_time_ms(spark):
    values = ["1:27.452", "01:29.4", "59.123", "1:05.45", "1:60.000", "1:27", "abc", None]
    assert _apply(spark, lap_time_ms, values) == [
        87452,
        89400,
        59123,
        65450,
        None,
        None,
        None,
        None,
    ]


INTS = ["12", "+12", "-12", "012", "00000000000012", "2147483647", "-2147483648",
        "2147483648", "99999999999", "12.0", "1e3", "0x10", "1_000", "\u0661\u0662", "",
        None]  # fmt: skip
DATES = ["2024-03-02", "2024-02-29", "2023-02-29", "2024-02-30", "2024-13-01", "2024-00-10",
         "2024-01-00", "2024-3-2", "24-03-02", "02/03/2024", "+2024-03-02", "12024-03-02",
         "2024-03-02T10:00", None]  # fmt: skip


@pytest.fixture(params=["true", "false"], ids=["ansi", "no-ansi"])
def ansi(spark, request):
    """Spark 4 runs with ANSI mode on by default, Spark 3.5 (Glue 5) with it off: parsing
    must give the same answers either way, never an error."""
    before = spark.conf.get("spark.sql.ansi.enabled")
    spark.conf.set("spark.sql.ansi.enabled", request.param)
    yield request.param
    spark.conf.set("spark.sql.ansi.enabled", before)


def test_parse_int_accepts_whole_32_bit_numbers_only(spark, ansi):
    assert (
        _apply(spark, parse_int, INTS)
        == [12, 12, -12, 12, 12, 2147483647, -2147483648] + [None] * 9
    )


def test_parse_date_accepts_real_calendar_days_only(spark, ansi):
    days = _apply(spark, lambda c: f"date_format({parse_date(c)}, 'yyyy-MM-dd')", DATES)
    assert days == ["2024-03-02", "2024-02-29"] + [None] * 12


def test_time_and_lap_parsing_is_the_same_with_or_without_ansi(spark, ansi):
    assert _apply(spark, parse_time, ["6:00", "99:00", "x"]) == ["06:00:00", None, None]
    assert _apply(spark, lap_time_ms, ["1:27.452", "1234567:01.0", "1:2x.0"]) == [87452, None, None]


RACES = (
    "raceId,year,round,name,date,time\n"
    "2,2024,2,Saudi,2024-03-09,17:00:00\n"
    "1,2024,1,Bahrain,2024-03-02,\\N\n"
)


def test_clean_races_types_and_keeps_source_lines(spark, tmp_path):
    path = write_csv(tmp_path / "races.csv", RACES, newline="\r\n")
    rows = clean_races(spark, str(path), "races.csv").orderBy("race_id").collect()
    assert [r.asDict() for r in rows] == [
        {
            "race_id": 1,
            "season": 2024,
            "round": 1,
            "race_name": "Bahrain",
            "race_date": dt.date(2024, 3, 2),
            "race_time": None,
            LINE: 3,
        },
        {
            "race_id": 2,
            "season": 2024,
            "round": 2,
            "race_name": "Saudi",
            "race_date": dt.date(2024, 3, 9),
            "race_time": "17:00:00",
            LINE: 2,
        },
    ]


def test_clean_results_keeps_lap_text_and_adds_milliseconds(spark, tmp_path):
    path = write_csv(
        tmp_path / "results.csv",
        "resultId,raceId,driverId,position,fastestLapTime\n7,1,44,1,1:27.452\n8,1,1,null,\n",
    )
    rows = clean_results(spark, str(path), "results.csv").orderBy("result_id").collect()
    assert [(r.position, r.fastest_lap_time, r.fastest_lap_time_ms) for r in rows] == [
        (1, "1:27.452", 87452),
        (None, None, None),
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("3,2024,3,Oz,2024-13-45,05:00:00", "line 4, column 'date': cannot parse '2024-13-45'"),
        ("x3,2024,3,Oz,2024-03-24,05:00:00", "line 4, column 'raceId': cannot parse 'x3'"),
        ("3,2024,3,Oz,2024-03-24,5 pm", "line 4, column 'time': cannot parse '5 pm'"),
        ("3,2024,\\N,Oz,2024-03-24,05:00:00", "line 4, column 'round': required value is missing"),
        ("3,2024,3", "line 4, column 'name': required value is missing"),
    ],
)
def test_bad_race_values_name_file_line_and_column(spark, tmp_path, line, expected):
    path = write_csv(tmp_path / "races.csv", RACES + line + "\n")
    with pytest.raises(InvalidInputError) as err:
        clean_races(spark, str(path), "/data/source-data/races.csv")
    assert str(err.value).startswith(f"/data/source-data/races.csv, {expected}")


def test_first_bad_row_is_reported_by_line_order(spark, tmp_path):
    path = write_csv(
        tmp_path / "results.csv",
        "resultId,raceId,driverId,position,fastestLapTime\n"
        "1,1,1,1,1:20.0\n2,1,2,P2,1:21.0\n3,1,3,3,slow\n",
    )
    with pytest.raises(InvalidInputError, match=r"line 3, column 'position': cannot parse 'P2'"):
        clean_results(spark, str(path), "results.csv")


def test_the_latest_plausible_season_can_be_raised_for_synthetic_data(spark, tmp_path):
    path = write_csv(tmp_path / "races.csv", RACES + "3,2100,1,Future,2100-03-24,05:00:00\n")
    with pytest.raises(InvalidInputError, match=r"seasons run from 1950 to next year \(\d{4}\)"):
        clean_races(spark, str(path), "races.csv")
    with pytest.raises(InvalidInputError, match=r"to the latest allowed \(2099\)"):
        clean_races(spark, str(path), "races.csv", max_season=2099)
    rows = clean_races(spark, str(path), "races.csv", max_season=2100).collect()
    assert sorted(r.season for r in rows) == [2024, 2024, 2100]


def test_a_header_line_repeated_in_the_file_is_refused_at_its_line(spark, tmp_path):
    # Two exports concatenated: the second header is not data, and not silently dropped.
    path = write_csv(tmp_path / "races.csv", RACES + RACES)
    with pytest.raises(InvalidInputError, match=r"races\.csv, line 4: the header line appears"):
        clean_races(spark, str(path), "races.csv")


def test_line_numbers_stay_exact_with_a_bom_and_blank_lines(spark, tmp_path):
    path = tmp_path / "races.csv"
    path.write_bytes(b"\xef\xbb\xbf" + RACES.replace("\n", "\n\n", 1).encode())
    rows = clean_races(spark, str(path), "races.csv").orderBy("race_id").collect()
    assert [r[LINE] for r in rows] == [4, 3]
