"""The Glue Data Catalog tables, against moto's catalog API over HTTP: their columns are the
schema's (the season only as the partition key), they point at the layout's folders, and the
season partitions follow what is published — withdrawn seasons removed, many at a time."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest

from f1_pipeline.core.contract import SEASON_FILE_COLUMNS
from f1_pipeline.core.glue_catalog import (
    SEASON_TABLE,
    catalog_seasons,
    ensure_tables,
    hive_type,
    registered_seasons,
    sync_partitions,
    table_inputs,
)
from f1_pipeline.core.storage import LocalStorage, layout
from f1_pipeline.core.transforms.schema import SPECS
from f1_pipeline_tests.conftest import copy_root

ROOT = "s3://f1-lake/prod"


@pytest.fixture
def glue(aws_env):
    return boto3.client("glue", endpoint_url=aws_env, region_name="eu-west-1")


@pytest.fixture
def database(glue) -> str:
    name = f"f1_{uuid.uuid4().hex[:8]}"
    ensure_tables(glue, name, ROOT)
    return name


def _columns(table: dict) -> list[tuple[str, str]]:
    return [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]


def test_the_tables_are_the_schema_at_the_layouts_folders(glue, database):
    tables = {t["Name"]: t for t in glue.get_tables(DatabaseName=database)["TableList"]}
    assert set(tables) == {"season_stats", "cleaned_races", "cleaned_results"}
    season = tables["season_stats"]
    assert _columns(season) == [(n, hive_type(k)) for n, k, _ in SEASON_FILE_COLUMNS]
    assert [(k["Name"], k["Type"]) for k in season["PartitionKeys"]] == [("season", "int")]
    # Glue refuses a partition key that is also a column: the files do not hold it.
    assert "season" not in dict(_columns(season))
    assert season["StorageDescriptor"]["Location"] == f"{ROOT}/{layout.SEASON_TABLE_PREFIX}"
    assert all(c["Comment"] for c in season["StorageDescriptor"]["Columns"])
    for table, spec in SPECS.items():
        found = tables[f"cleaned_{table}"]
        assert _columns(found) == [(c.name, c.type) for c in spec.cleaned_columns]
        assert found["StorageDescriptor"]["Location"] == f"{ROOT}/cleaned/{table}/"
        assert found["PartitionKeys"] == []


def test_ensure_is_idempotent_and_repairs_a_changed_table(glue, database):
    assert set(ensure_tables(glue, database, ROOT).values()) == {"unchanged"}
    wanted = table_inputs(ROOT)["cleaned_races"]
    changed = {**wanted, "StorageDescriptor": {**wanted["StorageDescriptor"], "Columns": []}}
    glue.update_table(DatabaseName=database, TableInput=changed)
    assert ensure_tables(glue, database, ROOT)["cleaned_races"] == "updated"
    table = glue.get_table(DatabaseName=database, Name="cleaned_races")["Table"]
    assert _columns(table) == [(c.name, c.type) for c in SPECS["races"].cleaned_columns]


def test_partitions_follow_the_published_seasons(glue, database, published_sample, tmp_path):
    root = copy_root(published_sample, tmp_path / "data")
    storage = LocalStorage(root)
    seasons = catalog_seasons(storage)
    assert seasons == list(range(2018, 2025))
    assert sync_partitions(glue, database, ROOT, seasons) == (seasons, [])
    assert sync_partitions(glue, database, ROOT, seasons) == ([], [])  # nothing to do
    [part] = glue.get_partitions(
        DatabaseName=database, TableName=SEASON_TABLE, Expression="season = 2021"
    )["Partitions"]
    assert part["StorageDescriptor"]["Location"] == (
        f"{ROOT}/{layout.stats_parquet(2021).rsplit('/', 1)[0]}/"
    )
    # A withdrawn season (its withdrawal accepted) leaves the catalog.
    manifest = json.loads((root / layout.manifest()).read_text())
    manifest["seasons"]["2018"]["withdrawn"] = True
    (root / layout.manifest()).write_text(json.dumps(manifest))
    assert sync_partitions(glue, database, ROOT, catalog_seasons(storage)) == ([], [2018])
    assert registered_seasons(glue, database) == set(range(2019, 2025))


def test_many_seasons_sync_in_batches(glue, database):
    seasons = list(range(1850, 2025))  # > 100 created and > 25 deleted per call: batches
    assert sync_partitions(glue, database, ROOT, seasons)[0] == seasons
    assert registered_seasons(glue, database) == set(seasons)
    assert sync_partitions(glue, database, ROOT, []) == ([], seasons)
    assert registered_seasons(glue, database) == set()
