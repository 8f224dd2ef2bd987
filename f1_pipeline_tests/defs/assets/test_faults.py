"""Injected faults: transient ones are retried and the run succeeds; permanent ones fail
at once, without retries, leaving no half-written output."""

from __future__ import annotations

import os
import threading

import pytest
from dagster import DagsterEventType, instance_for_test

from f1_pipeline.cli.bootstrap import bootstrap_bucket
from f1_pipeline.cli.errors import CommandError
from f1_pipeline.cli.launch import ingest
from f1_pipeline.core.storage import layout
from f1_pipeline.definitions import build_definitions
from f1_pipeline_tests.conftest import SAMPLE_SOURCE, local_env
from f1_pipeline_tests.e2e.dagster_dev import free_port


def _retries(instance, run_id) -> int:
    return len(instance.all_logs(run_id, of_type=DagsterEventType.STEP_UP_FOR_RETRY))


@pytest.fixture
def restartable_s3(aws_env, monkeypatch):
    """A moto server of this test's own, on a fixed loopback port so it can be restarted.
    moto keeps its data in-process, so a restart loses nothing."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    # Fail fast at the client so the step-level retry is what rides out the outage.
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    yield server
    server.stop()


def test_s3_outage_mid_run_is_retried(restartable_s3, monkeypatch, spark):
    from f1_pipeline.core.aws import aws_client
    from f1_pipeline_tests.conftest import storage_at

    # botocore's own AWS_MAX_ATTEMPTS (1, above) applies: the platform does not override it.
    bootstrap_bucket(aws_client("s3"), "f1-outage", tls_only=False)
    storage = storage_at("s3://f1-outage")
    for table in ("races", "results"):
        storage.publish_file(SAMPLE_SOURCE / f"{table}.csv", layout.source_csv(table))

    restartable_s3.stop()  # the server goes away as the run starts ...
    restart = threading.Timer(3.0, restartable_s3.start)  # ... and comes back 3 s later
    restart.start()
    with instance_for_test() as instance:
        stage = ingest(build_definitions({"F1_DATA_ROOT": "s3://f1-outage"}), instance)
        assert _retries(instance, stage.run_ids[0]) >= 1
    restart.join()
    assert storage.exists(layout.cleaned_parquet("results"))


def test_spark_failing_to_start_once_is_retried(data_root, spark, monkeypatch):
    from pyspark.errors import PySparkRuntimeError

    from f1_pipeline.defs.resources import SparkResource

    real = SparkResource.session
    calls = []

    def fails_once(self, *args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise PySparkRuntimeError(errorClass="JAVA_GATEWAY_EXITED", messageParameters={})
        return real(self, *args, **kwargs)

    monkeypatch.setattr(SparkResource, "session", fails_once)
    with instance_for_test() as instance:
        stage = ingest(build_definitions(local_env(data_root)), instance)
        assert _retries(instance, stage.run_ids[0]) == 1
    assert len(calls) == 2
    assert (data_root / layout.cleaned_parquet("races")).exists()


def test_bad_input_is_not_retried(data_root, spark):
    races = data_root / layout.source_csv("races")
    races.write_text(races.read_text().replace("2024-07-07", "July 7th"))
    with instance_for_test() as instance:
        with pytest.raises(CommandError, match="cannot parse 'July 7th'"):
            ingest(build_definitions(local_env(data_root)), instance)
        run = instance.get_runs(limit=1)[0]
        assert _retries(instance, run.run_id) == 0
    assert not (data_root / "cleaned").exists()
    assert os.listdir(data_root) == ["source-data"]


def test_a_season_run_waits_for_a_first_ingest_under_way(data_root, published_sample, spark):
    """A backfill can start while the sensor's run is still ingesting the first upload (its
    seasons are partitions from the request on): the season step is retried by Dagster
    until the cleaned data is there, instead of failing "no cleaned data yet"."""
    import shutil
    import time

    from dagster import AssetKey, DagsterRunStatus
    from dagster._core.test_utils import create_run_for_test

    from f1_pipeline.defs.constants import SEASONS_PARTITIONS

    defs = build_definitions(local_env(data_root))
    cleaned = {AssetKey(["cleaned", "races"]), AssetKey(["cleaned", "results"])}
    with instance_for_test() as instance:
        create_run_for_test(
            instance, job_name="f1_job", status=DagsterRunStatus.STARTED, asset_selection=cleaned
        )
        instance.add_dynamic_partitions(SEASONS_PARTITIONS, ["2024"])
        # The other run's ingest commits 4 s later (its cleaned layer, commit record included).
        commit = threading.Timer(
            4.0, shutil.copytree, (published_sample / "cleaned", data_root / "cleaned")
        )
        commit.start()
        started = time.monotonic()
        result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
            instance=instance,
            asset_selection=[AssetKey(["results", "season_stats"])],
            partition_key="2024",
        )
        commit.join()
        assert result.success
        assert time.monotonic() - started >= 4
        assert _retries(instance, result.run_id) >= 1
        logs = [r.user_message for r in instance.all_logs(result.run_id)]
        assert any("no cleaned data yet; run " in m and "is ingesting" in m for m in logs)
    assert (data_root / layout.stats_json(2024)).is_file()


def test_without_an_ingest_under_way_no_cleaned_data_fails_at_once(data_root, spark):
    from dagster import AssetKey

    from f1_pipeline.defs.constants import SEASONS_PARTITIONS

    defs = build_definitions(local_env(data_root))
    with instance_for_test() as instance:
        instance.add_dynamic_partitions(SEASONS_PARTITIONS, ["2024"])
        result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
            instance=instance,
            asset_selection=[AssetKey(["results", "season_stats"])],
            partition_key="2024",
            raise_on_error=False,
        )
        assert not result.success
        assert _retries(instance, result.run_id) == 0
        [failure] = instance.all_logs(result.run_id, of_type=DagsterEventType.STEP_FAILURE)
        assert "no cleaned data yet: ingest an upload" in str(
            failure.dagster_event.event_specific_data.error
        )
