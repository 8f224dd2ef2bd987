from __future__ import annotations

import os
import subprocess
import sys

from dagster import AssetKey, BackfillPolicy, DynamicPartitionsDefinition

from f1_pipeline.definitions import build_definitions
from f1_pipeline.defs.constants import (
    CLEANED_GROUP,
    PUBLISH_JOB,
    RAW_GROUP,
    STATS_GROUP,
    STEP_RUNNER_KEY,
)
from f1_pipeline_tests.conftest import REPO, local_env


def _graph(tmp_path):
    defs = build_definitions(local_env(tmp_path))
    return defs, defs.resolve_asset_graph()


def test_every_asset_has_a_group_and_a_description(tmp_path):
    _, graph = _graph(tmp_path)
    groups = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.group_name, key
        assert node.description, key
        assert len(node.description) > 20, key
        groups[key.to_user_string()] = node.group_name
    assert groups == {
        "source_data/races": RAW_GROUP,
        "source_data/results": RAW_GROUP,
        "cleaned/races": CLEANED_GROUP,
        "cleaned/results": CLEANED_GROUP,
        "results/season_stats": STATS_GROUP,
    }


def test_season_stats_is_season_partitioned_with_single_run_backfills(tmp_path):
    _, graph = _graph(tmp_path)
    node = graph.get(AssetKey(["results", "season_stats"]))
    assert isinstance(node.partitions_def, DynamicPartitionsDefinition)
    assert node.partitions_def.name == "seasons"
    assert node.backfill_policy == BackfillPolicy.single_run()


def test_cleaned_assets_have_blocking_checks(tmp_path):
    defs, graph = _graph(tmp_path)
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert checks == {
        ("cleaned/races", "race_id_unique"),
        ("cleaned/races", "season_round_unique"),
        ("cleaned/races", "no_published_data_removed"),
        ("cleaned/results", "result_id_unique"),
        ("cleaned/results", "race_id_in_races"),
        ("results/season_stats", "results_up_to_date"),  # a warning, not blocking
        ("results/season_stats", "published_files_agree"),  # an error, after the publish
    }
    for assets_def in defs.assets:
        for spec in getattr(assets_def, "check_specs", []):
            assert spec.blocking, spec.name
    assert defs.resolve_job_def(PUBLISH_JOB)


def test_workspace_loads_with_the_dagster_cli(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "DAGSTER_DISABLE_TELEMETRY": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "All code locations passed validation" in proc.stderr + proc.stdout


def test_automation_runs_by_default(tmp_path):
    defs, _ = _graph(tmp_path)
    sensors = {s.name: s.default_status.value for s in defs.sensors}
    assert sensors == {
        "source_data_sensor": "RUNNING",
        "run_failure_alert_sensor": "RUNNING",
        "freshness_alert_sensor": "RUNNING",
        "published_files_alert_sensor": "RUNNING",
        "tick_failure_alert_sensor": "RUNNING",
    }
    schedules = {s.name: s.default_status.value for s in defs.schedules}
    assert schedules == {
        "race_weekend_schedule": "RUNNING",
        "freshness_schedule": "RUNNING",
        "published_files_schedule": "RUNNING",
    }


def test_pools_hold_every_step_that_rewrites_an_output(tmp_path):
    """The pools sit on the assets and are claimed by their steps (op granularity), so a run
    from anywhere — the daemon, the CLI, `dagster asset materialize` — is held back; one
    slot per output."""
    from dagster import DagsterInstance
    from dagster._core.instance.config import PoolGranularity

    from f1_pipeline.defs.instance import prepare_home

    defs, graph = _graph(tmp_path)
    pools = {key.to_user_string(): graph.get(key).pools for key in graph.get_all_asset_keys()}
    assert pools["cleaned/races"] == pools["cleaned/results"] == {"cleaned_layer"}
    assert pools["results/season_stats"] == {"season_stats"}
    assert not any(t.startswith("f1/lane") for t in defs.resolve_job_def("f1_job").tags)

    home = prepare_home(tmp_path / "home")
    with DagsterInstance.from_config(str(home)) as instance:
        config = instance.get_concurrency_config()
        assert config.pool_config.pool_granularity == PoolGranularity.OP
        assert config.run_queue_config.max_concurrent_runs == 3
        limits = {p.name: p.limit for p in instance.event_log_storage.get_pool_limits()}
        assert limits == {"cleaned_layer": 1, "season_stats": 1}
        # A limit an operator changed is theirs: preparing the home again keeps it.
        instance.event_log_storage.set_concurrency_slots("season_stats", 4)
    prepare_home(home)
    with DagsterInstance.from_config(str(home)) as instance:
        limits = {p.name: p.limit for p in instance.event_log_storage.get_pool_limits()}
        assert limits == {"cleaned_layer": 1, "season_stats": 4}
        # Dagster retries a run whose process died, never one whose step failed.
        assert instance.run_retries_enabled
        assert instance.run_retries_max_retries == 2
        assert instance.run_retries_retry_on_asset_or_op_failure is False


def test_glue_mode_builds_without_region_or_network(monkeypatch):
    """Definitions load in the webserver and daemon: the Glue and S3 clients are built on
    a step's first use, so no region, credentials or endpoint are needed to import them."""
    import boto3

    from f1_pipeline.defs.runners.glue import GlueSpark

    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    built = []
    monkeypatch.setattr(boto3, "client", lambda *a, **k: built.append(a))
    monkeypatch.setattr(boto3.session.Session, "client", lambda _, *a, **k: built.append(a))
    env = {"F1_DATA_ROOT": "s3://f1-data", "F1_SPARK_MODE": "glue", "F1_GLUE_JOB_NAME": "f1-stats"}
    resource = build_definitions(env).resources[STEP_RUNNER_KEY]
    runner = resource.runner()
    assert isinstance(runner, GlueSpark)
    assert (runner.job_name, runner.data_root.bucket) == ("f1-stats", "f1-data")
    assert built == []
