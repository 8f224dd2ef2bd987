"""The published ``stats_{year}.json`` contract, and the Parquet season table.

Plain Python on rows already computed by Spark: shared by the Dagster assets
and the Glue entry script.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping
from itertools import groupby
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

CONTRACT_KEYS = (
    "Race Name",
    "Race Round",
    "Race Datetime",
    "Race Winning driverId",
    "Race Fastest Lap",
)

# The Parquet season table: (column, type, what it holds); Dagster's catalog, the Glue Data
# Catalog and `f1-pipeline query` show these. The season is the table's partition: in the
# folder name (season=2024/, Hive-style), not repeated in the files (a Glue table cannot
# have a partition key that is also a column).
SEASON_COLUMN: tuple[str, pa.DataType, str] = (
    "season",
    pa.int32(),
    "The championship season (year): the partition, from the folder name season=YYYY/.",
)
SEASON_FILE_COLUMNS: tuple[tuple[str, pa.DataType, str], ...] = (
    ("round", pa.int32(), "The race's round in its season."),
    ("race_id", pa.int32(), "The race (cleaned races' race_id)."),
    ("race_name", pa.string(), "Race Name in the contract."),
    (
        "race_datetime",
        pa.string(),
        "Race Datetime: YYYY-MM-DDTHH:MM:SS.000 UTC (midnight if no time).",
    ),
    ("race_start_utc", pa.timestamp("us", tz="UTC"), "The race's start as a timestamp (UTC)."),
    (
        "winner_driver_id",
        pa.int32(),
        "Race Winning driverId: position 1 (shared: lowest resultId).",
    ),
    ("winner_fastest_lap_time", pa.string(), "Race Fastest Lap: the winner's fastest lap."),
    ("winner_fastest_lap_ms", pa.int64(), "The winner's fastest lap in milliseconds."),
    ("fastest_lap_time", pa.string(), "The race's fastest lap, any driver."),
    ("fastest_lap_ms", pa.int64(), "The race's fastest lap in milliseconds."),
    ("fastest_lap_driver_id", pa.int32(), "The driver who set the race's fastest lap."),
    ("winner_rows", pa.int64(), "Position-1 results of the race (more than 1: a shared drive)."),
)

# The table as queried: the partition column first, then the files' columns.
SEASON_TABLE_COLUMNS = (SEASON_COLUMN, *SEASON_FILE_COLUMNS)
SEASON_FILE_SCHEMA = pa.schema([(name, kind) for name, kind, _ in SEASON_FILE_COLUMNS])


_DATETIME = (r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
             r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.000$")  # fmt: skip

# The contract as a JSON Schema (2020-12), published beside the outputs as
# results/stats.schema.json: what a consumer validates a stats_{year}.json against. It lives
# in this module, so it is versioned with the stats code (core/code_version.py).
STATS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "f1-pipeline stats_{year}.json",
    "description": "One season's races, sorted by round: every race of the season in "
    "races.csv, races without results included.",
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": list(CONTRACT_KEYS),
        "properties": {
            "Race Name": {"type": "string", "minLength": 1, "description": "name, races.csv"},
            "Race Round": {"type": "integer", "minimum": 1, "description": "round, races.csv"},
            "Race Datetime": {
                "type": "string",
                "pattern": _DATETIME,
                "description": "date + time, UTC, YYYY-MM-DDTHH:MM:SS.000 (no offset); "
                "00:00:00 when the time is missing",
            },
            "Race Winning driverId": {
                "type": ["integer", "null"],
                "minimum": 1,
                "description": "the driver with position 1 (shared drives: the lowest "
                "resultId); null when the race has no such row",
            },
            "Race Fastest Lap": {
                "type": ["string", "null"],
                "minLength": 1,
                "description": "the winner's fastestLapTime as in the source; null if missing",
            },
        },
    },
}


def schema_json(stats_code: str) -> bytes:
    """results/stats.schema.json: the schema, with the stats code version it belongs to."""
    document = {**STATS_SCHEMA, "$comment": f"f1-pipeline stats code {stats_code}"}
    return json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")


def contract_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """One race in the published contract."""
    winner = row["winner_driver_id"]
    return {
        "Race Name": row["race_name"],
        "Race Round": int(row["round"]),
        "Race Datetime": row["race_datetime"],
        "Race Winning driverId": None if winner is None else int(winner),
        "Race Fastest Lap": row["winner_fastest_lap_time"],
    }


def contract_json(rows: Iterable[Mapping[str, Any]]) -> bytes:
    """The bytes of one ``stats_{year}.json``: strict JSON, UTF-8 as-is, rows in round order."""
    records = [contract_record(r) for r in sorted(rows, key=lambda r: r["round"])]
    return json.dumps(records, indent=2, ensure_ascii=False, allow_nan=False).encode("utf-8")


def season_table_parquet(rows: Iterable[Mapping[str, Any]]) -> bytes:
    """One season's Parquet file: the contract's races plus overall fastest laps in ms (the
    season is its folder's name)."""
    names = SEASON_FILE_SCHEMA.names
    table = pa.Table.from_pylist([{k: r[k] for k in names} for r in rows], SEASON_FILE_SCHEMA)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def rows_by_season(rows: Iterable[Mapping[str, Any]]) -> dict[int, list[Mapping[str, Any]]]:
    """Group stats rows (ordered by season) by season."""
    ordered = sorted(rows, key=lambda r: (r["season"], r["round"]))
    return {season: list(group) for season, group in groupby(ordered, key=lambda r: r["season"])}
