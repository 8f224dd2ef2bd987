"""Through a running webserver's GraphQL API: the asset graph, the season partitions,
the sensors and schedule, a two-season backfill, and check results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from f1_pipeline.cli import main
from f1_pipeline.cli.webserver import graphql, season_partitions
from f1_pipeline.defs.instance import prepare_home
from f1_pipeline_tests.e2e.dagster_dev import dagster_dev, wait_until

pytestmark = pytest.mark.e2e
SEASONS = [str(y) for y in range(2018, 2025)]

_INSTIGATORS = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
  sensors { name sensorState { status } } schedules { name scheduleState { status } } } } } }"""
_ASSETS = """{ assetNodes { assetKey { path } groupName kinds pools
  owners { ... on TeamAssetOwner { team } }
  metadataEntries { label
    ... on TableSchemaMetadataEntry { schema { columns { name description } } } }
  internalFreshnessPolicy { ... on CronFreshnessPolicy { deadlineCron timezone } } } }"""
_RESOURCES = """{ allTopLevelResourceDetailsOrError(repositorySelector:
  {repositoryLocationName: "f1_pipeline", repositoryName: "__repository__"}) {
  ... on ResourceDetailsList { results { name description configuredValues { key value type } } }
  ... on PythonError { message } } }"""
_CHECKS = """query($keys: [AssetKeyInput!]) { assetNodes(assetKeys: $keys) {
  assetChecksOrError { ... on AssetChecks { checks {
    name blocking executionForLatestMaterialization { status } } } } } }"""


def _resources(url: str) -> dict[str, dict]:
    """The Resources page's data: each resource's description and configured values."""
    results = graphql(url, _RESOURCES)["allTopLevelResourceDetailsOrError"]["results"]
    return {
        r["name"]: {
            "description": r["description"],
            # Values come JSON-encoded ("local"), env vars by name.
            **{
                v["key"]: (
                    v["type"],
                    json.loads(v["value"]) if v["type"] == "VALUE" else v["value"],
                )
                for v in r["configuredValues"]
            },
        }
        for r in results
    }


def test_ui_backend_end_to_end(data_root, tmp_path, monkeypatch, expected_dir, capsys):
    monkeypatch.setenv("F1_DATA_ROOT", str(data_root))
    secret = "http://127.0.0.1:9/hooks/T000/B000/s3cr3t-token"
    monkeypatch.setenv("F1_ALERT_WEBHOOK_URL", secret)
    monkeypatch.setenv("DAGSTER_HOME", str(prepare_home(tmp_path / "dagster_home")))
    log = tmp_path / "dagster-dev.log"
    with dagster_dev(log) as url:
        monkeypatch.setenv("F1_DAGSTER_URL", url)
        nodes = {"/".join(n["assetKey"]["path"]): n for n in graphql(url, _ASSETS)["assetNodes"]}
        groups = {name: node["groupName"] for name, node in nodes.items()}
        assert groups == {
            "source_data/races": "raw",
            "source_data/results": "raw",
            "cleaned/races": "cleaned",
            "cleaned/results": "cleaned",
            "results/season_stats": "stats",
        }
        # What the catalog shows: kinds, owners, pools, described columns, freshness.
        stats = nodes["results/season_stats"]
        assert set(stats["kinds"]) == {"spark", "json", "parquet"}
        assert stats["owners"] == [{"team": "f1-data"}]
        assert stats["pools"] == ["season_stats"]
        assert nodes["cleaned/races"]["pools"] == ["cleaned_layer"]
        # The freshness signal is a check on the data, not a cron policy (see catalog.py).
        assert stats["internalFreshnessPolicy"] is None
        [schema] = [e for e in stats["metadataEntries"] if e["label"] == "dagster/column_schema"]
        assert all(c["description"] for c in schema["schema"]["columns"])
        # The Resources page: what each resource is and how it is configured; the alert
        # webhook (a secret) only as the name of its environment variable.
        resources = _resources(url)
        assert set(resources) == {"storage", "step_runner", "alerts", "catalog", "freshness"}
        assert resources["storage"]["data_root"] == ("VALUE", str(data_root))
        assert resources["step_runner"]["mode"] == ("VALUE", "local")
        assert resources["step_runner"]["hold_max_shrink_percent"] == ("VALUE", 10.0)
        assert resources["alerts"]["webhook_url"] == ("ENV_VAR", "F1_ALERT_WEBHOOK_URL")
        assert all(r["description"] for r in resources.values())
        assert "s3cr3t-token" not in json.dumps(graphql(url, _RESOURCES))
        [repo] = graphql(url, _INSTIGATORS)["repositoriesOrError"]["nodes"]

        states = {s["name"]: s["sensorState"]["status"] for s in repo["sensors"]}
        states |= {s["name"]: s["scheduleState"]["status"] for s in repo["schedules"]}
        assert states == {
            "source_data_sensor": "RUNNING",
            "run_failure_alert_sensor": "RUNNING",
            "freshness_alert_sensor": "RUNNING",
            "race_weekend_schedule": "RUNNING",
            "freshness_schedule": "RUNNING",
            "published_files_alert_sensor": "RUNNING",
            "tick_failure_alert_sensor": "RUNNING",
            "published_files_schedule": "RUNNING",
        }

        # The sensor ingests the local sample by itself; that registers the seasons.
        wait_until(lambda: season_partitions(url) == SEASONS, 240, "season partitions", log)

        code = main(["backfill", "--seasons", "2023,2024", "--timeout", "300"])
        out = capsys.readouterr().out
        assert code == 0, f"{out}\n{log.read_text()[-4000:]}"
        assert "season 2023: published" in out
        assert "season 2024: published" in out
        assert "summary: backfill" in out
        assert "2/2 season(s) published" in out
        # `f1-pipeline run` (its own process, as users run it) beside a running daemon: its run
        # goes through the daemon's queue and pools, followed here with its progress lines;
        # linked in the UI.
        script = os.path.join(os.path.dirname(sys.executable), "f1-pipeline")
        (data_root / "results" / "stats_2024.json").unlink()  # something to do
        (data_root / "results" / "_manifest.json").unlink()
        done = subprocess.run(
            [script, "run", "--seasons", "2024"], capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr
        assert "(submitted to the daemon's queue)" in done.stdout
        assert f"    queued as {url}/runs/" in done.stdout
        assert f"({url}/runs/" in done.stdout
        assert "    season files written: 2/2" in done.stdout

        # The manifest was removed, so the sensor republishes the other seasons too: the
        # checks' latest executions are read once no run is queued or running.
        def idle() -> bool:
            from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

            busy = [DagsterRunStatus.QUEUED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]
            with DagsterInstance.get() as instance:
                return not instance.get_run_records(RunsFilter(statuses=busy), limit=1)

        time.sleep(3)  # the sensor's next round sees the run's outcome
        wait_until(idle, 240, "no run in flight", log)
        checks = graphql(url, _CHECKS, {"keys": [{"path": ["cleaned", "races"]}]})
        [node] = checks["assetNodes"]
        statuses = {
            c["name"]: (c["blocking"], c["executionForLatestMaterialization"]["status"])
            for c in node["assetChecksOrError"]["checks"]
        }
        assert statuses == {
            "race_id_unique": (True, "SUCCEEDED"),
            "season_round_unique": (True, "SUCCEEDED"),
            "no_published_data_removed": (True, "SUCCEEDED"),
        }
    for season in ("2023", "2024"):
        got = json.loads((data_root / "results" / f"stats_{season}.json").read_text())
        assert got == json.loads((expected_dir / f"stats_{season}.json").read_text())


def test_a_backfill_without_a_daemon_is_refused_in_one_sentence(
    data_root, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("F1_DATA_ROOT", str(data_root))
    monkeypatch.setenv("DAGSTER_HOME", str(prepare_home(tmp_path / "dagster_home")))
    with dagster_dev(tmp_path / "webserver.log", webserver_only=True) as url:
        monkeypatch.setenv("F1_DAGSTER_URL", url)
        started = time.monotonic()
        assert main(["backfill", "--seasons", "2024"]) == 1
        assert time.monotonic() - started < 30  # no waiting on a queue nobody serves
        [line] = capsys.readouterr().err.strip().splitlines()
        assert "has no running daemon to execute backfills" in line
        backfills = graphql(
            url, "{ partitionBackfillsOrError { ... on PartitionBackfills { results { id } } } }"
        )
        assert backfills["partitionBackfillsOrError"]["results"] == []  # nothing left queued
