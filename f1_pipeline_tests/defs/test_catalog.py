"""The catalog signals every asset carries: kinds, owners, URI, columns, code, code versions,
and the freshness signal (a check, not a cron policy)."""

from __future__ import annotations

import pytest
from dagster import AssetCheckKey, AssetKey, TableSchema

from f1_pipeline.core.contract import SEASON_TABLE_COLUMNS
from f1_pipeline.definitions import build_definitions
from f1_pipeline_tests.conftest import local_env

ASSETS = {
    "source_data/races",
    "source_data/results",
    "cleaned/races",
    "cleaned/results",
    "results/season_stats",
}


def _nodes(env):
    graph = build_definitions(env).resolve_asset_graph()
    return {key.to_user_string(): graph.get(key) for key in graph.get_all_asset_keys()}


def test_every_asset_has_kinds_owners_uri_and_code(tmp_path):
    nodes = _nodes(local_env(tmp_path))
    assert set(nodes) == ASSETS
    for name, node in nodes.items():
        assert node.owners == ["team:f1-data"], name
        assert node.metadata["dagster/uri"].startswith(str(tmp_path)), name
        assert node.metadata["dagster/table_name"] == name.replace("/", "."), name
        if name.startswith("source_data/"):
            assert not node.is_materializable, name  # external: uploads, reported
            continue
        [reference] = node.metadata["dagster/code_references"].code_references
        module = {"source_data": "raw", "cleaned": "cleaned", "results": "stats"}[
            name.split("/")[0]
        ]
        assert reference.file_path.endswith(f"f1_pipeline/defs/assets/{module}.py"), name
    kinds = {name: node.kinds for name, node in nodes.items()}
    assert kinds == {
        "source_data/races": {"csv"},
        "source_data/results": {"csv"},
        "cleaned/races": {"spark", "parquet"},
        "cleaned/results": {"spark", "parquet"},
        "results/season_stats": {"spark", "json", "parquet"},
    }
    assert (
        nodes["results/season_stats"].metadata["dagster/uri"].endswith("results/stats_{year}.json")
    )


def test_glue_mode_on_s3_shows_both_in_kinds_and_uris(tmp_path):
    env = local_env(
        "s3://f1-bucket/prod",
        F1_SPARK_MODE="glue",
        F1_GLUE_JOB_NAME="f1-job",
        F1_CODE_REPOSITORY_URL="https://github.com/example/f1-pipeline",
        F1_CODE_BRANCH="release",
        F1_GLUE_DATABASE="f1_stats",
    )
    nodes = _nodes(env)
    # The storage line points at the real Glue tables Athena queries (database.table).
    tables = {name: node.metadata["dagster/table_name"] for name, node in nodes.items()}
    assert tables["results/season_stats"] == "f1_stats.season_stats"
    assert tables["cleaned/races"] == "f1_stats.cleaned_races"
    assert tables["cleaned/results"] == "f1_stats.cleaned_results"
    assert nodes["cleaned/results"].kinds == {"glue", "spark", "parquet", "s3"}
    assert nodes["source_data/races"].kinds == {"csv", "s3"}
    assert (
        nodes["cleaned/races"].metadata["dagster/uri"]
        == "s3://f1-bucket/prod/cleaned/races/races.parquet"
    )
    [reference] = nodes["results/season_stats"].metadata["dagster/code_references"].code_references
    assert reference.url.startswith(
        "https://github.com/example/f1-pipeline/tree/release/f1_pipeline/defs/assets/stats.py"
    )


@pytest.mark.parametrize("name", ["cleaned/races", "cleaned/results", "results/season_stats"])
def test_tables_declare_described_columns(tmp_path, name):
    schema = _nodes(local_env(tmp_path))[name].metadata["dagster/column_schema"]
    assert isinstance(schema, TableSchema)
    assert all(column.description for column in schema.columns), name
    if name == "results/season_stats":
        # The partition column (season) first, then the files' columns.
        assert [c.name for c in schema.columns] == [name for name, _, _ in SEASON_TABLE_COLUMNS]
        assert schema.columns[0].name == "season"


def test_freshness_is_a_check_on_the_data_not_a_cron_policy(tmp_path):
    defs = build_definitions(local_env(tmp_path))
    graph = defs.resolve_asset_graph()
    stats = graph.get(AssetKey(["results", "season_stats"]))
    # A policy would go red every week without a race (winter and summer breaks).
    assert stats.freshness_policy is None
    check = AssetCheckKey(stats.key, "results_up_to_date")
    assert check in graph.asset_check_keys
    assert defs.resolve_job_def("freshness_check_job")
    schedules = {s.name: s.cron_schedule for s in defs.schedules}
    assert schedules["freshness_schedule"] == "15 */6 * * *"


def test_code_versions_come_from_the_code_that_shapes_each_output(tmp_path):
    from f1_pipeline.core.code_version import code_versions

    nodes = _nodes(local_env(tmp_path))
    versions = code_versions()
    assert nodes["cleaned/races"].code_version == versions["cleaning"]
    assert nodes["cleaned/results"].code_version == versions["cleaning"]
    assert nodes["results/season_stats"].code_version == versions["stats"]
