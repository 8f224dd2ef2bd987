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

SEASON_TABLE_SCHEMA = pa.schema(
    [
        ("season", pa.int32()),
        ("round", pa.int32()),
        ("race_id", pa.int32()),
        ("race_name", pa.string()),
        ("race_datetime", pa.string()),
        ("race_start_utc", pa.timestamp("us", tz="UTC")),
        ("winner_driver_id", pa.int32()),
        ("winner_fastest_lap_time", pa.string()),
        ("winner_fastest_lap_ms", pa.int64()),
        ("fastest_lap_time", pa.string()),
        ("fastest_lap_ms", pa.int64()),
        ("fastest_lap_driver_id", pa.int32()),
        ("winner_rows", pa.int64()),
    ]
)


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
    """The Parquet season table: the contract's races plus overall fastest laps in ms."""
    names = SEASON_TABLE_SCHEMA.names
    table = pa.Table.from_pylist([{k: r[k] for k in names} for r in rows], SEASON_TABLE_SCHEMA)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def rows_by_season(rows: Iterable[Mapping[str, Any]]) -> dict[int, list[Mapping[str, Any]]]:
    """Group stats rows (ordered by season) by season."""
    ordered = sorted(rows, key=lambda r: (r["season"], r["round"]))
    return {season: list(group) for season, group in groupby(ordered, key=lambda r: r["season"])}
