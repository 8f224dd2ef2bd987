"""What the pipeline reads from each source CSV, and the cleaned column it becomes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    INT = "int"
    STRING = "string"
    DATE = "date"  # yyyy-MM-dd
    TIME = "time"  # HH:MM[:SS][Z], normalised to HH:MM:SS
    LAP_TIME = "lap_time"  # [M:]SS.f, kept as in the source plus milliseconds


@dataclass(frozen=True)
class Field:
    source: str  # header name in the CSV
    name: str  # column name in the cleaned table
    kind: Kind
    nullable: bool


@dataclass(frozen=True)
class TableSpec:
    table: str
    fields: tuple[Field, ...]
    key: str

    @property
    def source_columns(self) -> tuple[str, ...]:
        return tuple(f.source for f in self.fields)


RACES = TableSpec(
    table="races",
    key="race_id",
    fields=(
        Field("raceId", "race_id", Kind.INT, nullable=False),
        Field("year", "season", Kind.INT, nullable=False),
        Field("round", "round", Kind.INT, nullable=False),
        Field("name", "race_name", Kind.STRING, nullable=False),
        Field("date", "race_date", Kind.DATE, nullable=False),
        Field("time", "race_time", Kind.TIME, nullable=True),
    ),
)

RESULTS = TableSpec(
    table="results",
    key="result_id",
    fields=(
        Field("resultId", "result_id", Kind.INT, nullable=False),
        Field("raceId", "race_id", Kind.INT, nullable=False),
        Field("driverId", "driver_id", Kind.INT, nullable=False),
        Field("position", "position", Kind.INT, nullable=True),
        Field("fastestLapTime", "fastest_lap_time", Kind.LAP_TIME, nullable=True),
    ),
)

SPECS = {spec.table: spec for spec in (RACES, RESULTS)}

# Spellings of "no value" found in Ergast-derived exports.
NULL_TOKENS = ("", "null", "\\N")
