"""Turn raw CSV strings into typed, validated tables."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from f1_pipeline.core.transforms.errors import InvalidInputError
from f1_pipeline.core.transforms.reading import LINE, read_csv
from f1_pipeline.core.transforms.schema import NULL_TOKENS, RACES, RESULTS, Kind, TableSpec

_INT = r"^([+-]?)0*(\d{1,10})$"
_DATE = r"^(\d{4})-(\d{2})-(\d{2})$"
_TIME = r"^(\d{1,2}):(\d{2})(?::(\d{2}))?Z?$"
_LAP = r"^(?:(\d{1,6}):)?(\d{1,2})\.(\d{1,3})$"
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_ERROR_COLUMN = "_error_column"
_ERROR_VALUE = "_error_value"

# Parsing never relies on a cast or parser failing: Spark 3.5 (Glue 5) has no
# Column.try_cast or try_to_date, its datetime parser differs from 4.x on bad input, and a
# failed cast is an error or a null depending on ANSI mode. Values are matched by a regular
# expression first; every cast then gets digits only, so results (and the first bad value
# reported) are the same on every Spark line and either ANSI setting.


def normalise_nulls(value: Column) -> Column:
    """Trim, and map every spelling of "no value" to a real null."""
    trimmed = F.trim(value)
    return F.when(F.lower(trimmed).isin(*[t.lower() for t in NULL_TOKENS]), None).otherwise(trimmed)


def _group(value: Column, pattern: str, index: int) -> Column:
    """Regex group ``index`` as a number, 0 when the group is empty or absent. The cast only
    ever sees digits (a leading "0" covers the empty match), so it cannot fail."""
    return F.concat(F.lit("0"), F.regexp_extract(value, pattern, index)).cast("long")


def parse_int(value: Column) -> Column:
    """A whole number (optional sign, leading zeros) within 32-bit range; null otherwise."""
    magnitude = _group(value, _INT, 2)
    signed = F.when(F.regexp_extract(value, _INT, 1) == "-", -magnitude).otherwise(magnitude)
    return F.when(value.rlike(_INT) & signed.between(_INT_MIN, _INT_MAX), signed.cast("int"))


def parse_date(value: Column) -> Column:
    """``YYYY-MM-DD`` naming a real calendar day as a date; null otherwise."""
    year, month, day = (_group(value, _DATE, i).cast("int") for i in (1, 2, 3))
    safe_month = F.when(month.between(1, 12), month).otherwise(F.lit(1))
    first = F.make_date(year, safe_month, F.lit(1))
    days_in_month = F.dayofmonth(F.last_day(first))
    valid = value.rlike(_DATE) & month.between(1, 12) & day.between(1, days_in_month)
    safe_day = F.least(F.greatest(day, F.lit(1)), days_in_month)
    return F.when(valid, F.make_date(year, safe_month, safe_day))


def parse_time(value: Column) -> Column:
    """``HH:MM[:SS][Z]`` as ``HH:MM:SS``; null when it does not parse."""
    hours, minutes, seconds = (_group(value, _TIME, i) for i in (1, 2, 3))
    valid = value.rlike(_TIME) & (hours < 24) & (minutes < 60) & (seconds < 60)
    return F.when(valid, F.format_string("%02d:%02d:%02d", hours, minutes, seconds))


def lap_time_ms(value: Column) -> Column:
    """``1:27.452`` or ``01:29.4`` as milliseconds; null when it does not parse."""
    minutes, seconds = _group(value, _LAP, 1), _group(value, _LAP, 2)
    fraction = F.concat(F.lit("0"), F.rpad(F.regexp_extract(value, _LAP, 3), 3, "0"))
    ms = minutes * 60_000 + seconds * 1_000 + fraction.cast("long")
    return F.when(value.rlike(_LAP) & (seconds < 60), ms)


def _typed(value: Column, kind: Kind) -> Column:
    if kind is Kind.INT:
        return parse_int(value)
    if kind is Kind.DATE:
        return parse_date(value)
    if kind is Kind.TIME:
        return parse_time(value)
    if kind is Kind.LAP_TIME:
        return F.when(lap_time_ms(value).isNotNull(), value)
    return value


_EXPECTED = {
    Kind.INT: "an integer",
    Kind.DATE: "a date (YYYY-MM-DD)",
    Kind.TIME: "a time (HH:MM:SS)",
    Kind.LAP_TIME: "a lap time (M:SS.mmm)",
    Kind.STRING: "a value",
}


def type_table(raw: DataFrame, spec: TableSpec) -> DataFrame:
    """Typed columns named as in ``spec``, ``source_line``, and the first bad field per row.

    ``_error_column`` / ``_error_value`` are null on good rows.
    """
    norm = raw.select(
        *[normalise_nulls(F.col(f.source)).alias(f.source) for f in spec.fields], LINE
    )
    error_column: Column = F.lit(None).cast("string")
    error_value: Column = F.lit(None).cast("string")
    for f in reversed(spec.fields):
        value = F.col(f.source)
        bad = value.isNotNull() & _typed(value, f.kind).isNull()
        if not f.nullable:
            bad = bad | value.isNull()
        error_column = F.when(bad, F.lit(f.source)).otherwise(error_column)
        error_value = F.when(bad, value).otherwise(error_value)
    typed = [_typed(F.col(f.source), f.kind).alias(f.name) for f in spec.fields]
    extra = [
        lap_time_ms(F.col(f.source)).alias(f"{f.name}_ms")
        for f in spec.fields
        if f.kind is Kind.LAP_TIME
    ]
    return norm.select(
        *typed, *extra, LINE, error_column.alias(_ERROR_COLUMN), error_value.alias(_ERROR_VALUE)
    )


def raise_first_error(typed: DataFrame, spec: TableSpec, source: str) -> None:
    """Raise InvalidInputError for the first bad row, by line number, if any."""
    bad = typed.filter(F.col(_ERROR_COLUMN).isNotNull()).orderBy(LINE).limit(1).collect()
    if not bad:
        return
    row = bad[0]
    field = next(f for f in spec.fields if f.source == row[_ERROR_COLUMN])
    if row[_ERROR_VALUE] is None:
        problem = "required value is missing"
    else:
        problem = f"cannot parse {row[_ERROR_VALUE]!r} as {_EXPECTED[field.kind]}"
    raise InvalidInputError(source, problem, line=row[LINE], column=field.source)


def clean_table(spark: SparkSession, path: str, spec: TableSpec, source: str) -> DataFrame:
    """Read, type and validate one source CSV. Keeps ``source_line`` for later messages.

    Raises InvalidInputError naming ``source`` (and line and column) on bad input.
    """
    raw = read_csv(spark, path, source, spec.source_columns)
    typed = type_table(raw, spec)
    raise_first_error(typed, spec, source)
    return typed.drop(_ERROR_COLUMN, _ERROR_VALUE)


def clean_races(spark: SparkSession, path: str, source: str) -> DataFrame:
    return clean_table(spark, path, RACES, source)


def clean_results(spark: SparkSession, path: str, source: str) -> DataFrame:
    return clean_table(spark, path, RESULTS, source)
