"""Dagster on PostgreSQL (F1_DAGSTER_STORAGE=postgres), against a real server started here:
the instance our template makes, the pipeline driven by its sensors, and three season runs
at once on one instance."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
from dagster import AssetKey, AssetRecordsFilter, DagsterInstance, DagsterRunStatus

from f1_pipeline.cli import main
from f1_pipeline.core import engine
from f1_pipeline.core.spark import spark_config
from f1_pipeline.core.storage import layout
from f1_pipeline.defs.instance import prepare_home
from f1_pipeline.settings import Settings, SettingsError
from f1_pipeline_tests import postgres
from f1_pipeline_tests.conftest import local_settings
from f1_pipeline_tests.defs.sensors.helpers import Platform

# One season run in a process of its own, on the instance DAGSTER_HOME names.
PUBLISH = """
import sys
from dagster import DagsterInstance
from f1_pipeline.cli.launch import publish_seasons
from f1_pipeline.definitions import build_definitions
with DagsterInstance.get() as instance:
    publish_seasons(build_definitions(), instance, [int(sys.argv[1])])
"""
SEASON_STATS = AssetKey(["results", "season_stats"])
pytestmark = pytest.mark.skipif(not postgres.available(), reason="no initdb/pg_ctl on PATH")


@pytest.fixture(scope="module")
def server():
    with postgres.postgres_server() as running:
        yield running


@pytest.fixture
def pg_home(server, tmp_path, monkeypatch):
    """A Dagster home on a database of its own."""
    database = server.create_database(f"dagster_{uuid.uuid4().hex[:8]}")
    for name, value in server.env(database).items():
        monkeypatch.setenv(name, value)
    return prepare_home(tmp_path / "home", "postgres")


def test_the_postgres_template_makes_a_working_instance(pg_home):
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage

    text = (pg_home / "dagster.yaml").read_text()
    assert "password: {env: DAGSTER_PG_PASSWORD}" in text  # the secret stays in the env
    with DagsterInstance.from_config(str(pg_home)) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        limits = {p.name: p.limit for p in instance.event_log_storage.get_pool_limits()}
        assert limits == {"cleaned_layer": 1, "season_stats": 2}
        assert not instance.nux_enabled
    assert not (pg_home / "history").exists()  # nothing of Dagster's in SQLite files


def test_postgres_storage_needs_its_server_named():
    with pytest.raises(SettingsError, match="F1_DAGSTER_STORAGE=postgres needs DAGSTER_PG_HOST"):
        Settings.from_env({"F1_DAGSTER_STORAGE": "postgres"})
    with pytest.raises(SettingsError, match="use sqlite or postgres"):
        Settings.from_env({"F1_DAGSTER_STORAGE": "mysql"})


def test_pipeline_sensors_and_concurrent_season_runs_on_postgres(
    pg_home, data_root, spark, expected_dir, monkeypatch, capsys
):
    with DagsterInstance.from_config(str(pg_home)) as instance:
        platform = Platform(local_settings(data_root), instance)
        runs = platform.react()
        assert [name for name, _ in runs] == ["source_data_sensor", "stale_seasons_sensor"]
        assert all(result.success for _, result in runs)
        for season in range(2018, 2025):
            got = json.loads((data_root / layout.stats_json(season)).read_text())
            want = json.loads((expected_dir / f"stats_{season}.json").read_text())
            assert got == want, season

        # Three season runs at once, each in its own process as the daemon launches them,
        # sharing one instance (and, to spare two cores three JVMs, one warm Spark server).
        env = {**os.environ, "DAGSTER_HOME": str(pg_home), "F1_DATA_ROOT": str(data_root),
               "F1_DAGSTER_STORAGE": "postgres"}  # fmt: skip
        engine.start(pg_home, spark_config("local[2]"), port=0)
        try:
            workers = [
                subprocess.Popen([sys.executable, "-c", PUBLISH, str(s)], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                for s in (2022, 2023, 2024)
            ]  # fmt: skip
            outputs = [w.communicate(timeout=600)[0] for w in workers]
        finally:
            engine.stop(pg_home)
        assert [w.returncode for w in workers] == [0, 0, 0], outputs
        runs = instance.get_runs()
        assert [r.status for r in runs] == [DagsterRunStatus.SUCCESS] * 5
        concurrent = {r.run_id for r in runs[:3]}
        # Each season's latest materialisation is its own concurrent run's, and the manifest
        # (updated by all three at once) lists every season.
        for season in ("2022", "2023", "2024"):
            [record] = instance.fetch_materializations(
                AssetRecordsFilter(asset_key=SEASON_STATS, asset_partitions=[season]), limit=1
            ).records
            assert record.run_id in concurrent
        manifest = json.loads((data_root / layout.manifest()).read_text())
        assert {manifest["seasons"][s]["run_id"] for s in ("2022", "2023", "2024")} == concurrent

    # The command line on the same instance (its progress lines read the run's events).
    for name, value in {"DAGSTER_HOME": str(pg_home), "F1_DATA_ROOT": str(data_root),
                        "F1_DAGSTER_STORAGE": "postgres"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    assert main(["run", "--seasons", "2024"]) == 0
    assert "    season files written: 2/2" in capsys.readouterr().out
