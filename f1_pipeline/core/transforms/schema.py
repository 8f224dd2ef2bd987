"""What the pipeline reads from each source CSV, and the cleaned column it becomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import NamedTuple


class Kind(Enum):
    INT = "int"
    STRING = "string"
    DATE = "date"  # yyyy-MM-dd
    TIME = "time"  # HH:MM[:SS][Z], normalised to HH:MM:SS
    LAP_TIME = "lap_time"  # [M:]SS.f, kept as in the source plus milliseconds


# The first Formula 1 World Championship season. The last plausible one is next year (a
# calendar is published before its season starts).
FIRST_SEASON = 1950


def latest_plausible_season() -> int:
    """Next year (UTC)."""
    return datetime.now(UTC).year + 1


# The cleaned tables keep each row's line in its source CSV (for later error messages).
SOURCE_LINE = "source_line"

_SPARK_TYPES = {
    Kind.INT: "int",
    Kind.STRING: "string",
    Kind.DATE: "date",
    Kind.TIME: "string",
    Kind.LAP_TIME: "string",
}


class Column(NamedTuple):
    name: str
    type: str
    description: str


@dataclass(frozen=True)
class Field:
    source: str  # header name in the CSV
    name: str  # column name in the cleaned table
    kind: Kind
    description: str  # what the cleaned column holds (the catalog shows it)
    nullable: bool = False
    minimum: int | None = None  # smallest plausible value (INT fields)
    season: bool = False  # a championship season: FIRST_SEASON to next year
    # DATE fields: the INT field (by source name) whose season the date must fall in
    in_season_of: str | None = None


@dataclass(frozen=True)
class TableSpec:
    table: str
    fields: tuple[Field, ...]
    key: str

    @property
    def source_columns(self) -> tuple[str, ...]:
        return tuple(f.source for f in self.fields)

    @property
    def cleaned_columns(self) -> tuple[Column, ...]:
        """The cleaned Parquet table's columns, in order, with Spark types."""
        columns = []
        for f in self.fields:
            columns.append(Column(f.name, _SPARK_TYPES[f.kind], f.description))
            if f.kind is Kind.LAP_TIME:
                columns.append(Column(f"{f.name}_ms", "bigint", f"{f.source} in milliseconds."))
        columns.append(Column(SOURCE_LINE, "bigint", "The row's line number in the source CSV."))
        return tuple(columns)

    @property
    def cleaned_ddl(self) -> str:
        """The cleaned table's schema as a DDL string: a reader given it infers nothing
        (inferring a Parquet file's schema is a Spark job of its own)."""
        return ", ".join(f"`{c.name}` {c.type}" for c in self.cleaned_columns)


RACES = TableSpec(
    table="races",
    key="race_id",
    fields=(
        Field("raceId", "race_id", Kind.INT, "The race's id (unique).", minimum=1),
        Field("year", "season", Kind.INT, "The championship season (year).", season=True),
        Field(
            "round",
            "round",
            Kind.INT,
            "The race's round in its season (unique per season).",
            minimum=1,
        ),
        Field("name", "race_name", Kind.STRING, "The race's name, e.g. British Grand Prix."),
        Field(
            "date",
            "race_date",
            Kind.DATE,
            "The race day (UTC), within its season's year.",
            in_season_of="year",
        ),
        Field(
            "time",
            "race_time",
            Kind.TIME,
            "The start time, HH:MM:SS UTC; null when the source has none.",
            nullable=True,
        ),
    ),
)

RESULTS = TableSpec(
    table="results",
    key="result_id",
    fields=(
        Field("resultId", "result_id", Kind.INT, "The result's id (unique).", minimum=1),
        Field("raceId", "race_id", Kind.INT, "The race (cleaned races' race_id).", minimum=1),
        Field("driverId", "driver_id", Kind.INT, "The driver.", minimum=1),
        Field(
            "position",
            "position",
            Kind.INT,
            "Finishing position; null when not classified.",
            nullable=True,
            minimum=1,
        ),
        Field(
            "fastestLapTime",
            "fastest_lap_time",
            Kind.LAP_TIME,
            "The driver's fastest lap as in the source ([M:]SS.fff); null if none.",
            nullable=True,
        ),
    ),
)

SPECS = {spec.table: spec for spec in (RACES, RESULTS)}

# Spellings of "no value" found in Ergast-derived exports.
NULL_TOKENS = ("", "null", "\\N")
