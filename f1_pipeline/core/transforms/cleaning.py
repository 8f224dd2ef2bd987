"""Turn raw CSV strings into typed, validated tables."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from f1_pipeline.core.transforms.errors import InvalidInputError
from f1_pipeline.core.transforms.reading import (
    BLOCK,
    HEADER,
    POSITION,
    ROW_ID,
    SKIP,
    Blocks,
    block_stats,
    read_csv,
)
from f1_pipeline.core.transforms.schema import (
    FIRST_SEASON,
    NULL_TOKENS,
    Field,
    Kind,
    TableSpec,
    latest_plausible_season,
)

_INT = r"^([+-]?)0*(\d{1,10})$"
_DATE = r"^(\d{4})-(\d{2})-(\d{2})$"
_TIME = r"^(\d{1,2}):(\d{2})(?::(\d{2}))?Z?$"
_LAP = r"^(?:(\d{1,6}):)?(\d{1,2})\.(\d{1,3})$"
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1

# Parsing never relies on a cast or parser failing: Spark 3.5 (Glue 5) has no
# Column.try_cast or try_to_date, its datetime parser differs from 4.x on bad input, and a
# failed cast is an error or a null depending on ANSI mode. Values are matched by a regular
# expression first; every cast then gets digits only, so results (and the first bad value
# reported) are the same on every Spark line and either ANSI setting.
#
# The expressions are built as Spark SQL text, one string per column, and parsed by Spark
# once per projection: built with pyspark's Column functions they took ~4,000 calls into a
# classic session's JVM per table (most of a small upload's validation); the text is the
# same on Spark Connect and on 3.5.


def sql_string(text: str) -> str:
    """``text`` as a Spark SQL string literal (backslashes and quotes escaped)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def sql_name(name: str) -> str:
    """``name`` as a quoted Spark SQL identifier."""
    return "`" + name.replace("`", "``") + "`"


# Every spelling of "no value", in any case. A case-insensitive match rather than lower():
# Spark 4's lower() maps case with ICU, whose first use costs a new JVM ~1.7 s.
_NULLS = "(?i)^(" + "|".join(re.escape(t) for t in NULL_TOKENS) + ")$"


def normalise_nulls(value: str) -> str:
    """Trim, and map every spelling of "no value" to a real null (SQL of the SQL ``value``)."""
    return f"CASE WHEN {_matches(f'trim({value})', _NULLS)} THEN NULL ELSE trim({value}) END"


def _group(value: str, pattern: str, index: int) -> str:
    """Regex group ``index`` as a number, 0 when the group is empty or absent. The cast only
    ever sees digits (a leading "0" covers the empty match), so it cannot fail."""
    extracted = f"regexp_extract({value}, {sql_string(pattern)}, {index})"
    return f"CAST(concat('0', {extracted}) AS BIGINT)"


def _matches(value: str, pattern: str) -> str:
    return f"({value} RLIKE {sql_string(pattern)})"


def parse_int(value: str) -> str:
    """A whole number (optional sign, leading zeros) within 32-bit range; null otherwise.

    One regex per value: a value it matches (sign, digits, at most ten significant) always
    casts to a long exactly, on every Spark line and ANSI setting."""
    number = f"(CASE WHEN {_matches(value, _INT)} THEN CAST({value} AS BIGINT) END)"
    return f"CASE WHEN {number} BETWEEN {_INT_MIN} AND {_INT_MAX} THEN CAST({number} AS INT) END"


def parse_date(value: str) -> str:
    """``YYYY-MM-DD`` naming a real calendar day as a date; null otherwise."""
    year, month, day = (f"CAST({_group(value, _DATE, i)} AS INT)" for i in (1, 2, 3))
    safe_month = f"(CASE WHEN {month} BETWEEN 1 AND 12 THEN {month} ELSE 1 END)"
    days_in_month = f"dayofmonth(last_day(make_date({year}, {safe_month}, 1)))"
    valid = (f"{_matches(value, _DATE)} AND {month} BETWEEN 1 AND 12 "
             f"AND {day} BETWEEN 1 AND {days_in_month}")  # fmt: skip
    safe_day = f"least(greatest({day}, 1), {days_in_month})"
    return f"CASE WHEN {valid} THEN make_date({year}, {safe_month}, {safe_day}) END"


def parse_time(value: str) -> str:
    """``HH:MM[:SS][Z]`` as ``HH:MM:SS``; null when it does not parse."""
    hours, minutes, seconds = (_group(value, _TIME, i) for i in (1, 2, 3))
    valid = f"{_matches(value, _TIME)} AND {hours} < 24 AND {minutes} < 60 AND {seconds} < 60"
    text = f"format_string('%02d:%02d:%02d', {hours}, {minutes}, {seconds})"
    return f"CASE WHEN {valid} THEN {text} END"


def lap_time_ms(value: str) -> str:
    """``1:27.452`` or ``01:29.4`` as milliseconds; null when it does not parse."""
    minutes, seconds = _group(value, _LAP, 1), _group(value, _LAP, 2)
    digits = f"rpad(regexp_extract({value}, {sql_string(_LAP)}, 3), 3, '0')"
    fraction = f"CAST(concat('0', {digits}) AS BIGINT)"
    ms = f"{minutes} * 60000 + {seconds} * 1000 + {fraction}"
    return f"CASE WHEN {_matches(value, _LAP)} AND {seconds} < 60 THEN {ms} END"


# A lap time's parse is its milliseconds (type_table): not here.
_PARSE = {Kind.INT: parse_int, Kind.DATE: parse_date, Kind.TIME: parse_time}


_EXPECTED = {
    Kind.INT: "an integer",
    Kind.DATE: "a date (YYYY-MM-DD)",
    Kind.TIME: "a time (HH:MM:SS)",
    Kind.LAP_TIME: "a lap time (M:SS.mmm)",
    Kind.STRING: "a value",
}


# Why a value is refused: the codes a row's first problem is reported with.
_MISSING, _UNPARSEABLE, _TOO_SMALL, _NOT_A_SEASON, _OUTSIDE_SEASON = (
    "missing", "unparseable", "too_small", "not_a_season", "outside_season",
)  # fmt: skip
_PROBLEM = "_problem"


def _parsed(f: Field) -> str:
    return f"_parsed_{f.source}"


def _code(f: Field) -> str:
    return f"_code_{f.source}"


def _field_problem(f: Field, spec: TableSpec, max_season: int) -> str:
    """The code of the first rule ``f``'s value breaks on a row; null when it is fine.
    Reads the value as text (``f.source``) and parsed (:func:`_parsed`)."""
    value, typed = sql_name(f.source), sql_name(_parsed(f))
    rules: list[tuple[str, str]] = []
    if not f.nullable:
        rules.append((f"{value} IS NULL", _MISSING))
    rules.append((f"{value} IS NOT NULL AND {typed} IS NULL", _UNPARSEABLE))
    if f.minimum is not None:
        rules.append((f"{typed} < {f.minimum}", _TOO_SMALL))
    if f.season:
        rules.append((f"NOT ({typed} BETWEEN {FIRST_SEASON} AND {max_season})", _NOT_A_SEASON))
    if f.in_season_of is not None:
        season = next(s for s in spec.fields if s.source == f.in_season_of)
        rules.append((f"year({typed}) != {sql_name(_parsed(season))}", _OUTSIDE_SEASON))
    cases = " ".join(f"WHEN {broken} THEN {sql_string(code)}" for broken, code in rules)
    return f"CASE {cases} END"


def type_table(raw: DataFrame, spec: TableSpec, max_season: int) -> DataFrame:
    """Typed columns named as in ``spec``, the row's position, and its first problem.

    ``_problem`` is null on good rows; otherwise a struct of the source column, its value,
    the rule broken and, for a date outside its season, that season.

    Three projections, each referring to the one before by name: every value is parsed
    once and every rule code computed once (Spark does not merge projections that would
    repeat a costly expression, and a regex parse repeated per rule cost ~10x at scale).
    """
    position = [sql_name(c) for c in POSITION]
    sources = [sql_name(f.source) for f in spec.fields]
    norm = raw.selectExpr(
        *[f"{normalise_nulls(sql_name(f.source))} AS {sql_name(f.source)}" for f in spec.fields],
        *position,
    )
    laps = [f for f in spec.fields if f.kind is Kind.LAP_TIME]
    parsed = norm.selectExpr(
        *sources,
        *position,
        *[f"{_PARSE.get(f.kind, str)(sql_name(f.source))} AS {sql_name(_parsed(f))}"
          for f in spec.fields if f not in laps],
        *[f"{lap_time_ms(sql_name(f.source))} AS {sql_name(f'{f.name}_ms')}" for f in laps],
    ).selectExpr(
        "*",  # a lap time is valid text when it has a value in milliseconds
        *[f"CASE WHEN {sql_name(f'{f.name}_ms')} IS NOT NULL THEN {sql_name(f.source)} END "
          f"AS {sql_name(_parsed(f))}" for f in laps],
    )  # fmt: skip
    coded = parsed.selectExpr(
        "*",
        *[f"{_field_problem(f, spec, max_season)} AS {sql_name(_code(f))}" for f in spec.fields],
    )
    problems = []
    for f in spec.fields:
        code = sql_name(_code(f))
        context = sql_name(f.in_season_of) if f.in_season_of else "CAST(NULL AS STRING)"
        detail = (f"named_struct('column', {sql_string(f.source)}, 'value', "
                  f"{sql_name(f.source)}, 'code', {code}, 'context', {context})")  # fmt: skip
        problems.append(f"CASE WHEN {code} IS NOT NULL THEN {detail} END")
    return coded.selectExpr(
        *[f"{sql_name(_parsed(f))} AS {sql_name(f.name)}" for f in spec.fields],
        *[sql_name(f"{f.name}_ms") for f in laps],
        *position,
        f"coalesce({', '.join(problems)}) AS {_PROBLEM}",
    )


def _message(
    field: Field, value: str | None, code: str, context: str | None, max_season: int
) -> str:
    if code == _MISSING:
        return "required value is missing"
    if code == _UNPARSEABLE:
        return f"cannot parse {value!r} as {_EXPECTED[field.kind]}"
    if code == _TOO_SMALL:
        return f"{value!r} is out of range: {field.source} must be at least {field.minimum}"
    if code == _NOT_A_SEASON:
        last = "next year" if max_season == latest_plausible_season() else "the latest allowed"
        return (
            f"{value!r} is not a plausible season: Formula 1 seasons run from {FIRST_SEASON} "
            f"to {last} ({max_season})"
        )
    return f"{value!r} is not in the race's season ({field.in_season_of} {context})"


def validate(typed: DataFrame, spec: TableSpec, source: str, max_season: int) -> tuple[Blocks, int]:
    """One Spark action over the typed rows: per block, its lines (for numbering), its data
    rows, its first bad row and its header lines. Raises InvalidInputError for the first bad
    row in file order (with its line and column), a header line repeated in the file, or a
    file with no data rows; returns the blocks and the number of data rows."""
    data = ~F.col(SKIP)
    per_block = typed.groupBy(BLOCK).agg(
        *block_stats(typed),
        F.count(F.when(data, True)).alias("_rows"),
        F.min(F.when(data & F.col(_PROBLEM).isNotNull(), F.struct(ROW_ID, _PROBLEM))).alias("_bad"),
        F.count(F.when(F.col(HEADER), True)).alias("_headers"),
        F.max(F.when(F.col(HEADER), F.col(ROW_ID))).alias("_last_header"),
    )
    found = sorted((r.asDict() for r in per_block.collect()), key=lambda r: r[BLOCK])
    blocks = Blocks.of(found)
    bad = next((r for r in found if r["_bad"] is not None), None)
    if bad is not None:
        problem = bad["_bad"][_PROBLEM]
        field = next(f for f in spec.fields if f.source == problem["column"])
        message = _message(field, problem["value"], problem["code"], problem["context"], max_season)
        line = blocks.line(bad[BLOCK], bad["_bad"][ROW_ID])
        raise InvalidInputError(source, message, line=line, column=field.source)
    if sum(r["_headers"] for r in found) > 1:
        last = max((r for r in found if r["_headers"]), key=lambda r: r[BLOCK])
        raise InvalidInputError(
            source,
            "the header line appears again",
            line=blocks.line(last[BLOCK], last["_last_header"]),
        )
    rows = sum(r["_rows"] for r in found)
    if rows == 0:
        raise InvalidInputError(
            source, "no data rows (a header only): an upload holds the whole history", line=2
        )
    return blocks, rows


@contextmanager
def validated_table(
    spark: SparkSession,
    path: str,
    spec: TableSpec,
    source: str,
    max_season: int | None = None,
    cache: bool = True,
    header: str | None = None,
) -> Iterator[tuple[DataFrame, int]]:
    """Read, type and validate one source CSV; yield the cleaned table (``source_line``
    kept for later messages) and its row count, after one Spark action.

    Raises InvalidInputError naming ``source`` (and line and column) on bad input: a value
    that does not parse, a missing required value, an implausible value (see ``schema``),
    or a file without data rows. With ``cache``, the typed rows
    the validation computes are kept (memory, spilling to disk) until the block ends, so the
    CSV is parsed once, in parallel, rather than again by the write. ``header``: the file's
    first line, when the caller has it (else Spark reads it)."""
    max_season = max_season or latest_plausible_season()
    raw = read_csv(spark, path, source, spec.source_columns, header)
    typed = type_table(raw, spec, max_season)
    if cache:
        typed = typed.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        blocks, rows = validate(typed, spec, source, max_season)
        data = typed.filter(~F.col(SKIP)).drop(_PROBLEM)
        yield blocks.numbered(data), rows
    finally:
        if cache:
            typed.unpersist()
