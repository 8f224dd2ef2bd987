"""What the pipeline reads from each source CSV, and the cleaned column it becomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum


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


@dataclass(frozen=True)
class Field:
    source: str  # header name in the CSV
    name: str  # column name in the cleaned table
    kind: Kind
    nullable: bool
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


RACES = TableSpec(
    table="races",
    key="race_id",
    fields=(
        Field("raceId", "race_id", Kind.INT, nullable=False, minimum=1),
        Field("year", "season", Kind.INT, nullable=False, season=True),
        Field("round", "round", Kind.INT, nullable=False, minimum=1),
        Field("name", "race_name", Kind.STRING, nullable=False),
        Field("date", "race_date", Kind.DATE, nullable=False, in_season_of="year"),
        Field("time", "race_time", Kind.TIME, nullable=True),
    ),
)

RESULTS = TableSpec(
    table="results",
    key="result_id",
    fields=(
        Field("resultId", "result_id", Kind.INT, nullable=False, minimum=1),
        Field("raceId", "race_id", Kind.INT, nullable=False, minimum=1),
        Field("driverId", "driver_id", Kind.INT, nullable=False, minimum=1),
        Field("position", "position", Kind.INT, nullable=True, minimum=1),
        Field("fastestLapTime", "fastest_lap_time", Kind.LAP_TIME, nullable=True),
    ),
)

SPECS = {spec.table: spec for spec in (RACES, RESULTS)}

# Spellings of "no value" found in Ergast-derived exports.
NULL_TOKENS = ("", "null", "\\N")
