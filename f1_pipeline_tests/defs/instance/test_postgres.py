"""Dagster on PostgreSQL (F1_DAGSTER_STORAGE=postgres), against a real server started here:
the instance our template makes, the pipeline driven by its sensors, and three season runs
at once on one instance."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
import uuid

import pytest
from dagster import (
    AssetKey,
    AssetRecordsFilter,
    DagsterInstance,
    DagsterRunStatus,
    RunsFilter,
)

from f1_pipeline.cli import main
from f1_pipeline.cli import spark as warm_engine
from f1_pipeline.core.spark import Engine
from f1_pipeline.core.storage import layout
from f1_pipeline.defs.instance import prepare_home
from f1_pipeline_tests import postgres
from f1_pipeline_tests.conftest import local_env

# One run of one season in a process of its own (as `f1-pipeline run --seasons` or
# `dagster asset materialize` make them), on the instance DAGSTER_HOME names.
PUBLISH = """
import sys
import os
from dagster import DagsterInstance
from f1_pipeline.definitions import build_definitions
from f1_pipeline_tests.runs import publish
with DagsterInstance.get() as instance:
    publish(build_definitions(os.environ), instance, [int(sys.argv[1])])
"""
SEASON_STATS = AssetKey(["results", "season_stats"])
pytestmark = [
    pytest.mark.full,
    pytest.mark.skipif(not postgres.available(), reason="no initdb/pg_ctl on PATH"),
]


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
        assert limits == {"cleaned_layer": 1, "season_stats": 1}
        assert not instance.nux_enabled
    assert not (pg_home / "history").exists()  # nothing of Dagster's in SQLite files


def test_runs_are_dated_in_utc_whatever_the_servers_time_zone(server, pg_home):
    # Dagster reads PostgreSQL's naive timestamps as UTC: on a server in New York a run was
    # dated 5 h in the past and run monitoring failed it before it was queued.
    import psycopg2
    from dagster._core.test_utils import create_run_for_test  # a test helper, tests only

    database = os.environ["DAGSTER_PG_DB"]
    conn = psycopg2.connect(**server.connect_args("postgres"))
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f"ALTER DATABASE \"{database}\" SET timezone TO 'America/New_York'")
    conn.close()
    with DagsterInstance.from_config(str(pg_home)) as instance:
        run = create_run_for_test(instance, job_name="f1_job")
        [record] = instance.get_run_records(RunsFilter(run_ids=[run.run_id]))
        age = time.time() - record.create_timestamp.timestamp()
    assert abs(age) < 60


def test_the_sensor_and_concurrent_runs_on_postgres_never_overlap(
    pg_home, data_root, spark, expected_dir, monkeypatch, capsys
):
    from f1_pipeline.definitions import build_definitions
    from f1_pipeline.defs.sensors import source_data
    from f1_pipeline.defs.sensors.source_data import source_data_sensor
    from f1_pipeline_tests.defs.sensors.helpers import execute, tick

    monkeypatch.setattr(source_data, "_pause", lambda seconds: None)
    with DagsterInstance.from_config(str(pg_home)) as instance:
        defs = build_definitions(local_env(data_root))
        data = tick(source_data_sensor, instance, None, defs=defs, resources=defs.resources)
        [request] = data.run_requests
        assert execute(defs, instance, data, request).success
        for season in range(2018, 2025):
            got = json.loads((data_root / layout.stats_json(season)).read_text())
            want = json.loads((expected_dir / f"stats_{season}.json").read_text())
            assert got == want, season

        # A correction to three seasons, then three runs at once, each in its own process
        # and outside any queue (in-process launchers): the pools, claimed by the steps,
        # never let two write the same outputs at once. One warm Spark server for all three.
        results = data_root / layout.source_csv("results")
        text = results.read_text()
        for race, lap in (("1096", "01:40.0"), ("1115", "01:41.0"), ("1132", "01:42.0")):
            text += f"{90000 + int(race)},{race},999,20,{lap}\r\n"
        results.write_text(text)
        env = {**os.environ, "DAGSTER_HOME": str(pg_home), "F1_DATA_ROOT": str(data_root),
               "F1_DAGSTER_STORAGE": "postgres"}  # fmt: skip
        engine = Engine(pg_home, "local[2]")
        warm_engine.start(engine, port=0)
        try:
            workers = [
                subprocess.Popen([sys.executable, "-c", PUBLISH, str(s)], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                for s in (2022, 2023, 2024)
            ]  # fmt: skip
            outputs = [w.communicate(timeout=600)[0] for w in workers]
        finally:
            warm_engine.stop(engine)
        assert [w.returncode for w in workers] == [0, 0, 0], outputs
        runs = instance.get_runs()
        assert [r.status for r in runs] == [DagsterRunStatus.SUCCESS] * 4
        concurrent = runs[:3]
        for step in ("cleaned_tables", "results__season_stats"):
            spans = sorted(_step_span(instance, r.run_id, step) for r in concurrent)
            for (_, end), (start, _) in itertools.pairwise(spans):
                assert end <= start, f"two runs wrote {step} at once: {spans}"
        # Each season's latest materialisation is its own run's; the manifest lists them.
        manifest = json.loads((data_root / layout.manifest()).read_text())
        for season in ("2022", "2023", "2024"):
            [record] = instance.fetch_materializations(
                AssetRecordsFilter(asset_key=SEASON_STATS, asset_partitions=[season]), limit=1
            ).records
            assert record.run_id in {r.run_id for r in concurrent}
            assert manifest["seasons"][season]["run_id"] == record.run_id

    # The command line on the same instance (its progress lines read the run's events).
    for name, value in {"DAGSTER_HOME": str(pg_home), "F1_DATA_ROOT": str(data_root),
                        "F1_DAGSTER_STORAGE": "postgres"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    assert main(["run", "--seasons", "2024"]) == 0
    assert "season 2024: 24 races (unchanged)" in capsys.readouterr().out


def _step_span(instance, run_id: str, step: str) -> tuple[float, float]:
    """When ``step`` of the run started and ended (its events' timestamps)."""
    from dagster import DagsterEventType

    records = instance.all_logs(run_id)
    start = min(
        r.timestamp
        for r in records
        if r.step_key == step
        and r.dagster_event
        and r.dagster_event.event_type == DagsterEventType.STEP_START
    )
    end = max(
        r.timestamp
        for r in records
        if r.step_key == step
        and r.dagster_event
        and r.dagster_event.event_type
        in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE)
    )
    return start, end
