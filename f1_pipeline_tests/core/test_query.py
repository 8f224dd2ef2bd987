"""SQL over the published tables (DuckDB): the views have the catalog's names and the schema's
types, and answer what the JSON files say — on a local root, on an S3 root read through the
project's storage, and on a root from before the cleaned tables had folders of their own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from f1_pipeline.core.contract import SEASON_TABLE_COLUMNS
from f1_pipeline.core.query import QueryError, connect, run_query
from f1_pipeline.core.storage import LocalStorage
from f1_pipeline_tests.conftest import storage_at

SEASONS = range(2018, 2025)
CONTRACT = "round, race_name, race_datetime, winner_driver_id, winner_fastest_lap_time"


def _query(storage, sql: str, tmp_path: Path) -> tuple[list[str], list[tuple]]:
    with connect(storage, tmp_path / "work") as con:
        return run_query(con, sql)


def _as_contract(rows: list[tuple]) -> list[dict]:
    keys = ("Race Round", "Race Name", "Race Datetime", "Race Winning driverId",
            "Race Fastest Lap")  # fmt: skip
    return sorted(({k: v for k, v in zip(keys, r, strict=True)} for r in rows),
                  key=lambda r: r["Race Round"])  # fmt: skip


def _answers_equal_the_json(storage, expected_dir: Path, tmp_path: Path) -> None:
    _, rows = _query(storage, f"SELECT season, {CONTRACT} FROM season_stats", tmp_path)
    for season in SEASONS:
        published = json.loads((expected_dir / f"stats_{season}.json").read_text())
        mine = [r[1:] for r in rows if r[0] == season]
        assert _as_contract(mine) == sorted(published, key=lambda r: r["Race Round"]), season


def test_the_season_table_answers_what_the_json_files_say(published_sample, expected_dir, tmp_path):
    storage = LocalStorage(published_sample)
    _answers_equal_the_json(storage, expected_dir, tmp_path)
    # The analyst's question, against the JSON files' own answer.
    _, wins = _query(
        storage,
        "SELECT winner_driver_id, count(*) AS wins FROM season_stats "
        "WHERE season = 2024 AND winner_driver_id IS NOT NULL GROUP BY 1 ORDER BY wins DESC, 1",
        tmp_path,
    )
    counts: dict[int, int] = {}
    for race in json.loads((expected_dir / "stats_2024.json").read_text()):
        if race["Race Winning driverId"] is None:
            continue  # not run yet
        counts[race["Race Winning driverId"]] = counts.get(race["Race Winning driverId"], 0) + 1
    assert dict(wins) == counts
    assert wins[0] == max(counts.items(), key=lambda kv: (kv[1], -kv[0]))


def test_views_have_the_catalogs_names_and_the_schemas_types(published_sample, tmp_path):
    storage = LocalStorage(published_sample)
    _columns, rows = _query(storage, "DESCRIBE season_stats", tmp_path)
    described = {r[0]: r[1] for r in rows}
    assert list(described) == [name for name, _, _ in SEASON_TABLE_COLUMNS]
    assert described["season"] == "INTEGER"  # the partition, typed as in the schema
    assert described["race_start_utc"] == "TIMESTAMP WITH TIME ZONE"
    _, [(races,)] = _query(storage, "SELECT count(*) FROM cleaned_races", tmp_path)
    _, [(results,)] = _query(storage, "SELECT count(DISTINCT race_id) FROM cleaned_results",
                             tmp_path)  # fmt: skip
    assert races == 149
    assert 0 < results <= races


def test_nothing_published_is_empty_typed_views(tmp_path):
    storage = LocalStorage(tmp_path / "empty")
    (tmp_path / "empty").mkdir()
    for table in ("season_stats", "cleaned_races", "cleaned_results"):
        columns, rows = _query(storage, f"SELECT * FROM {table}", tmp_path)
        assert rows == [], table
        assert columns, table


def test_bad_sql_is_duckdbs_message_on_one_line(published_sample, tmp_path):
    storage = LocalStorage(published_sample)
    with pytest.raises(QueryError) as err:
        _query(storage, "SELECT nope\nFROM season_stats", tmp_path)
    assert "nope" in str(err.value)
    assert "\n" not in str(err.value)
    with pytest.raises(QueryError, match="drivers"):
        _query(storage, "SELECT * FROM drivers", tmp_path)


def test_an_s3_root_is_read_through_the_storage(published_sample, expected_dir, bucket,
                                                 s3_client, tmp_path):  # fmt: skip
    for path in sorted(published_sample.rglob("*")):
        if path.is_file():
            key = f"lake/{path.relative_to(published_sample).as_posix()}"
            s3_client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
    storage = storage_at(f"s3://{bucket}/lake")
    _answers_equal_the_json(storage, expected_dir, tmp_path)
    _, [(races,)] = _query(storage, "SELECT count(*) FROM cleaned_races", tmp_path)
    assert races == 149
