from __future__ import annotations

import datetime as dt
import io
import json

import pyarrow.parquet as pq
import pytest

from f1_pipeline.core.contract import (
    CONTRACT_KEYS,
    contract_json,
    rows_by_season,
    season_table_parquet,
)


def _row(season, rnd, **overrides):
    row = {
        "season": season,
        "round": rnd,
        "race_id": rnd,
        "race_name": f"Race {rnd}",
        "race_datetime": f"{season}-03-0{rnd}T00:00:00.000",
        "race_start_utc": dt.datetime(season, 3, rnd),
        "winner_driver_id": 1,
        "winner_fastest_lap_time": "01:29.4",
        "winner_fastest_lap_ms": 89400,
        "fastest_lap_time": "01:28.3",
        "fastest_lap_ms": 88300,
        "fastest_lap_driver_id": 2,
        "winner_rows": 1,
    }
    return row | overrides


def test_contract_json_keys_order_and_types():
    data = json.loads(contract_json([_row(2024, 2), _row(2024, 1)]))
    assert [list(d) for d in data] == [list(CONTRACT_KEYS)] * 2
    assert [d["Race Round"] for d in data] == [1, 2]
    assert data[0]["Race Fastest Lap"] == "01:29.4"


def test_contract_json_nulls_and_utf8_as_is():
    raw = contract_json(
        [_row(2024, 1, race_name="São Paulo", winner_driver_id=None, winner_fastest_lap_time=None)]
    )
    assert "São Paulo".encode() in raw
    assert json.loads(raw)[0]["Race Winning driverId"] is None
    assert b"NaN" not in raw


def test_contract_json_refuses_nan():
    with pytest.raises(ValueError, match="JSON compliant"):
        contract_json([_row(2024, 1, race_name=float("nan"))])


def test_rows_by_season_groups_in_order():
    grouped = rows_by_season([_row(2024, 2), _row(2023, 1), _row(2024, 1)])
    assert list(grouped) == [2023, 2024]
    assert [r["round"] for r in grouped[2024]] == [1, 2]


def test_season_table_parquet_round_trips():
    table = pq.read_table(io.BytesIO(season_table_parquet([_row(2024, 1)])))
    assert table.num_rows == 1
    assert table.column("fastest_lap_ms").to_pylist() == [88300]
    assert str(table.schema.field("race_start_utc").type) == "timestamp[us, tz=UTC]"


def test_every_golden_file_is_valid_against_the_published_schema(expected_dir, published_sample):
    """The contract as a JSON Schema (2020-12): what the golden files are, published beside
    the outputs under a name no `stats_*.json` glob picks up, versioned with the stats code."""
    from jsonschema import Draft202012Validator

    from f1_pipeline.core.code_version import code_versions
    from f1_pipeline.core.storage import layout

    published = published_sample / layout.stats_schema()
    schema = json.loads(published.read_text())
    Draft202012Validator.check_schema(schema)
    assert code_versions()["stats"] in schema["$comment"]
    assert published not in set(published.parent.glob("stats_*.json"))
    validator = Draft202012Validator(schema)
    golden = sorted(expected_dir.glob("stats_*.json"))
    assert len(golden) == 7
    for path in golden:
        assert list(validator.iter_errors(json.loads(path.read_text()))) == [], path.name
    # What the schema refuses: an offset, a missing key, a string winner, a NaN-free float.
    race = json.loads(golden[-1].read_text())[0]
    for bad in (
        {**race, "Race Datetime": "2024-03-02T15:00:00.000+00:00"},
        {k: v for k, v in race.items() if k != "Race Fastest Lap"},
        {**race, "Race Winning driverId": "830"},
        {**race, "Race Round": 1.5},
        {**race, "Extra": 1},
    ):
        assert list(validator.iter_errors([bad])), bad
