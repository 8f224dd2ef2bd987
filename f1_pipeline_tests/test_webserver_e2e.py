"""Through a running webserver's GraphQL API: the asset graph, the season partitions,
the sensors and schedule, a two-season backfill, and check results."""

from __future__ import annotations

import json

import pytest

from f1_pipeline.cli import main
from f1_pipeline.instance import prepare_home
from f1_pipeline.webserver import graphql, season_partitions
from f1_pipeline_tests.dagster_dev import dagster_dev, wait_until

pytestmark = pytest.mark.e2e
SEASONS = [str(y) for y in range(2018, 2025)]

_INSTIGATORS = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
  sensors { name sensorState { status } } schedules { name scheduleState { status } } } } } }"""
_ASSETS = "{ assetNodes { assetKey { path } groupName } }"
_CHECKS = """query($keys: [AssetKeyInput!]) { assetNodes(assetKeys: $keys) {
  assetChecksOrError { ... on AssetChecks { checks {
    name blocking executionForLatestMaterialization { status } } } } } }"""


def test_ui_backend_end_to_end(data_root, tmp_path, monkeypatch, expected_dir, capsys):
    monkeypatch.setenv("F1_DATA_ROOT", str(data_root))
    monkeypatch.setenv("DAGSTER_HOME", str(prepare_home(tmp_path / "dagster_home")))
    log = tmp_path / "dagster-dev.log"
    with dagster_dev(log) as url:
        monkeypatch.setenv("F1_DAGSTER_URL", url)
        groups = {
            "/".join(n["assetKey"]["path"]): n["groupName"]
            for n in graphql(url, _ASSETS)["assetNodes"]
        }
        assert groups == {
            "source_data/races": "raw",
            "source_data/results": "raw",
            "cleaned/races": "cleaned",
            "cleaned/results": "cleaned",
            "results/season_stats": "stats",
        }
        [repo] = graphql(url, _INSTIGATORS)["repositoriesOrError"]["nodes"]
        states = {s["name"]: s["sensorState"]["status"] for s in repo["sensors"]}
        states |= {s["name"]: s["scheduleState"]["status"] for s in repo["schedules"]}
        assert states == {
            "source_data_sensor": "RUNNING",
            "stale_seasons_sensor": "RUNNING",
            "run_failure_alert_sensor": "RUNNING",
            "race_weekend_schedule": "RUNNING",
        }

        # The sensor ingests the local sample by itself; that registers the seasons.
        wait_until(lambda: season_partitions(url) == SEASONS, 240, "season partitions", log)

        assert main(["backfill", "--seasons", "2023,2024", "--timeout", "300"]) == 0
        out = capsys.readouterr().out
        assert "season 2023: published" in out
        assert "season 2024: published" in out
        assert "summary: backfill" in out
        assert "2/2 season(s) published" in out

        checks = graphql(url, _CHECKS, {"keys": [{"path": ["cleaned", "races"]}]})
        [node] = checks["assetNodes"]
        statuses = {
            c["name"]: (c["blocking"], c["executionForLatestMaterialization"]["status"])
            for c in node["assetChecksOrError"]["checks"]
        }
        assert statuses == {
            "race_id_unique": (True, "SUCCEEDED"),
            "season_round_unique": (True, "SUCCEEDED"),
        }
    for season in ("2023", "2024"):
        got = json.loads((data_root / "results" / f"stats_{season}.json").read_text())
        assert got == json.loads((expected_dir / f"stats_{season}.json").read_text())
