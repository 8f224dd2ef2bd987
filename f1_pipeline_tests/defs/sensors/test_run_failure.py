"""Failure alerts posted to a webhook served by the test on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from dagster import DagsterEventType, build_run_status_sensor_context, instance_for_test

from f1_pipeline.cli.errors import CommandError
from f1_pipeline.cli.launch import ingest
from f1_pipeline.core.storage import layout
from f1_pipeline.definitions import build_definitions
from f1_pipeline.defs.alerts import AlertDeliveryError, AlertsResource
from f1_pipeline.defs.constants import ALERTS_KEY
from f1_pipeline.defs.sensors.run_failure import run_failure_alert_sensor
from f1_pipeline_tests.conftest import local_env


@pytest.fixture
def webhook():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            received.append(
                {"type": self.headers["Content-Type"], "body": json.loads(self.rfile.read(length))}
            )
            self.send_response(200 if self.path == "/hook" else 500)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()


@pytest.fixture
def failed_run(data_root, spark):
    (data_root / layout.source_csv("results")).unlink()
    with instance_for_test() as instance:
        with pytest.raises(CommandError):
            ingest(build_definitions(local_env(data_root)), instance)
        run = instance.get_runs(limit=1)[0]
        [failure] = instance.all_logs(run.run_id, of_type=DagsterEventType.RUN_FAILURE)
        yield instance, run, failure.dagster_event


def _evaluate(failed_run, sink):
    instance, run, event = failed_run
    context = build_run_status_sensor_context(
        sensor_name=run_failure_alert_sensor.name,
        dagster_event=event,
        dagster_instance=instance,
        dagster_run=run,
        resources={ALERTS_KEY: sink},
    ).for_run_failure()
    run_failure_alert_sensor(context)


def test_failed_run_posts_a_json_alert(failed_run, webhook, data_root):
    url, received = webhook
    _evaluate(
        failed_run, AlertsResource(webhook_url=f"{url}/hook", ui_url="https://dagster.example/")
    )
    [alert] = received
    assert alert["type"] == "application/json"
    body = alert["body"]
    _, run, _ = failed_run
    assert body["run_id"] == run.run_id
    assert body["run_url"] == f"https://dagster.example/runs/{run.run_id}"
    # Slack-style hooks need `text`: the whole alert in one line, link included.
    assert body["text"].startswith("f1-pipeline: f1_job failed: ")
    assert body["text"].endswith(f"file not found — https://dagster.example/runs/{run.run_id}")

    assert body["job"] == "f1_job"
    assert "cleaned/results" in body["assets"]
    assert body["failed_steps"][0]["step"] == "cleaned_tables"
    assert body["error"] == f"{data_root / 'source-data/results.csv'}: file not found"


def test_no_webhook_configured_means_log_only(failed_run, capfd):
    sink = AlertsResource(webhook_url=None)
    assert sink.send({"text": "x"}) is False  # nothing configured: nothing sent
    capfd.readouterr()
    _evaluate(failed_run, sink)
    _, run, _ = failed_run
    logged = capfd.readouterr().err
    assert "ERROR - f1-pipeline: f1_job failed: " in logged
    assert f"/runs/{run.run_id}" in logged


def test_a_refusing_webhook_is_an_error_without_the_url(failed_run, webhook):
    url, _ = webhook
    with pytest.raises(AlertDeliveryError) as err:
        _evaluate(failed_run, AlertsResource(webhook_url=f"{url}/wrong-path?token=secret"))
    assert "secret" not in str(err.value)
