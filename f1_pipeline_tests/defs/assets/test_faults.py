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
from f1_pipeline.defs.resources import storage_resource
from f1_pipeline.settings import Settings
from f1_pipeline_tests.conftest import SAMPLE_SOURCE, local_settings
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
    monkeypatch.setenv("F1_DATA_ROOT", "s3://f1-outage")
    settings = Settings.from_env()
    resource = storage_resource(settings)
    bootstrap_bucket(resource.s3_client(), "f1-outage", "eu-west-1", tls_only=False)
    storage = resource.get()
    for table in ("races", "results"):
        storage.publish_file(SAMPLE_SOURCE / f"{table}.csv", layout.source_csv(table))

    restartable_s3.stop()  # the server goes away as the run starts ...
    restart = threading.Timer(3.0, restartable_s3.start)  # ... and comes back 3 s later
    restart.start()
    with instance_for_test() as instance:
        stage = ingest(build_definitions(settings), instance)
        assert _retries(instance, stage.run_ids[0]) >= 1
    restart.join()
    assert storage.exists(layout.cleaned_parquet("results"))


def test_spark_failing_to_start_once_is_retried(data_root, spark, monkeypatch):
    from f1_pipeline.core.engine import EngineError
    from f1_pipeline.defs.runners import local

    real = local.private_server
    calls = []

    def fails_once(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise EngineError("the Spark Connect server did not start; see its log")
        return real(*args, **kwargs)

    monkeypatch.setattr(local, "private_server", fails_once)
    with instance_for_test() as instance:
        stage = ingest(build_definitions(local_settings(data_root)), instance)
        assert _retries(instance, stage.run_ids[0]) == 1
    assert len(calls) == 2
    assert (data_root / layout.cleaned_parquet("races")).exists()


def test_bad_input_is_not_retried(data_root, spark):
    races = data_root / layout.source_csv("races")
    races.write_text(races.read_text().replace("2024-07-07", "July 7th"))
    with instance_for_test() as instance:
        with pytest.raises(CommandError, match="cannot parse 'July 7th'"):
            ingest(build_definitions(local_settings(data_root)), instance)
        run = instance.get_runs(limit=1)[0]
        assert _retries(instance, run.run_id) == 0
    assert not (data_root / "cleaned").exists()
    assert os.listdir(data_root) == ["source-data"]
