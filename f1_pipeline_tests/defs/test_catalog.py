"""The catalog signals every asset carries: kinds, owners, URI, columns, code, freshness."""

from __future__ import annotations

import pytest
from dagster import TableSchema

from f1_pipeline.core.contract import SEASON_TABLE_SCHEMA
from f1_pipeline.definitions import build_definitions
from f1_pipeline.settings import GlueSettings, S3Root
from f1_pipeline_tests.conftest import local_settings

ASSETS = {
    "source_data/races",
    "source_data/results",
    "cleaned/races",
    "cleaned/results",
    "results/season_stats",
}


def _nodes(settings):
    graph = build_definitions(settings).resolve_asset_graph()
    return {key.to_user_string(): graph.get(key) for key in graph.get_all_asset_keys()}


def test_every_asset_has_kinds_owners_uri_and_code(tmp_path):
    nodes = _nodes(local_settings(tmp_path))
    assert set(nodes) == ASSETS
    for name, node in nodes.items():
        assert node.owners == ["team:f1-data"], name
        assert node.metadata["dagster/uri"].startswith(str(tmp_path)), name
        assert node.metadata["dagster/table_name"] == name.replace("/", "."), name
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
    settings = local_settings(tmp_path)
    settings = type(settings)(
        data_root=S3Root("f1-bucket", "prod/"),
        dagster_home=settings.dagster_home,
        glue=GlueSettings(job_name="f1-job"),
        code_repository_url="https://github.com/example/f1-pipeline",
        code_branch="release",
    )
    nodes = _nodes(settings)
    assert nodes["cleaned/results"].kinds == {"glue", "spark", "parquet", "s3"}
    assert nodes["source_data/races"].kinds == {"csv", "s3"}
    assert (
        nodes["cleaned/races"].metadata["dagster/uri"]
        == "s3://f1-bucket/prod/cleaned/races.parquet"
    )
    [reference] = nodes["results/season_stats"].metadata["dagster/code_references"].code_references
    assert reference.url.startswith(
        "https://github.com/example/f1-pipeline/tree/release/f1_pipeline/defs/assets/stats.py"
    )


@pytest.mark.parametrize("name", ["cleaned/races", "cleaned/results", "results/season_stats"])
def test_tables_declare_described_columns(tmp_path, name):
    schema = _nodes(local_settings(tmp_path))[name].metadata["dagster/column_schema"]
    assert isinstance(schema, TableSchema)
    assert all(column.description for column in schema.columns), name
    if name == "results/season_stats":
        assert [c.name for c in schema.columns] == SEASON_TABLE_SCHEMA.names


def test_season_stats_promise_stats_by_monday_morning(tmp_path):
    policy = _nodes(local_settings(tmp_path))["results/season_stats"].freshness_policy
    assert policy.deadline_cron == "0 9 * * 1"
    assert policy.timezone == "UTC"
    assert policy.lower_bound_delta.total_seconds() == 20 * 3600
