"""Turn raw CSV strings into typed, validated tables."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from f1_pipeline.transforms.errors import InvalidInputError
from f1_pipeline.transforms.reading import LINE, read_csv
from f1_pipeline.transforms.schema import NULL_TOKENS, RACES, RESULTS, Kind, TableSpec

_TIME = r"^(\d{1,2}):(\d{2})(?::(\d{2}))?Z?$"
_LAP = r"^(?:(\d+):)?(\d{1,2})\.(\d{1,3})$"
_ERROR_COLUMN = "_error_column"
_ERROR_VALUE = "_error_value"


def normalise_nulls(value: Column) -> Column:
    """Trim, and map every spelling of "no value" to a real null."""
    trimmed = F.trim(value)
    return F.when(F.lower(trimmed).isin(*[t.lower() for t in NULL_TOKENS]), None).otherwise(trimmed)


def parse_time(value: Column) -> Column:
    """``HH:MM[:SS][Z]`` as ``HH:MM:SS``; null when it does not parse."""
    hours = F.regexp_extract(value, _TIME, 1).try_cast("int")
    minutes = F.regexp_extract(value, _TIME, 2).try_cast("int")
    seconds = F.coalesce(F.regexp_extract(value, _TIME, 3).try_cast("int"), F.lit(0))
    valid = value.rlike(_TIME) & (hours < 24) & (minutes < 60) & (seconds < 60)
    return F.when(valid, F.format_string("%02d:%02d:%02d", hours, minutes, seconds))


def lap_time_ms(value: Column) -> Column:
    """``1:27.452`` or ``01:29.4`` as milliseconds; null when it does not parse."""
    minutes = F.coalesce(F.regexp_extract(value, _LAP, 1).try_cast("long"), F.lit(0))
    seconds = F.regexp_extract(value, _LAP, 2).try_cast("long")
    fraction = F.rpad(F.regexp_extract(value, _LAP, 3), 3, "0").try_cast("long")
    ms = minutes * 60_000 + seconds * 1_000 + fraction
    return F.when(value.rlike(_LAP) & (seconds < 60), ms)


def _typed(value: Column, kind: Kind) -> Column:
    if kind is Kind.INT:
        return value.try_cast("int")
    if kind is Kind.DATE:
        return F.try_to_date(value, "yyyy-MM-dd")
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
