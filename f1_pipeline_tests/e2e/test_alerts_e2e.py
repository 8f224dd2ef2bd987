"""One alert when a sensor starts failing its ticks, one when it recovers — through a real
`dg dev` (webserver and daemon), its ticks read by the watcher from the webserver's GraphQL:
the S3 server goes away under the listing sensor, then comes back."""

from __future__ import annotations

import pytest
from moto.server import ThreadedMotoServer

from f1_pipeline.cli.bootstrap import bootstrap_bucket
from f1_pipeline.core.aws import aws_client
from f1_pipeline.defs.graphql import graphql
from f1_pipeline.defs.instance import prepare_home
from f1_pipeline_tests.e2e.dagster_dev import dagster_dev, free_port, wait_until
from f1_pipeline_tests.webhook import Webhook

pytestmark = pytest.mark.e2e
SENSORS = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
  sensors { name sensorState { ticks(limit: 1) { status } } } } } } }"""


def _ticked(url: str) -> set[str]:
    """The sensors whose latest tick ended well."""
    [repo] = graphql(url, SENSORS)["repositoriesOrError"]["nodes"]
    good = (["SUCCESS"], ["SKIPPED"])
    return {s["name"] for s in repo["sensors"]
            if [t["status"] for t in s["sensorState"]["ticks"]] in good}  # fmt: skip


def test_a_failing_sensor_alerts_once_and_its_recovery_once(aws_env, tmp_path, monkeypatch):
    s3_port, ui_port = free_port(), free_port()
    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_port, verbose=False)
    s3.start()  # this test's own server: it keeps its data across a restart
    hook = Webhook()
    for name, value in {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{s3_port}",
        "AWS_MAX_ATTEMPTS": "1",  # a tick fails at once while the server is away
        "F1_DATA_ROOT": "s3://f1-ticks",
        "DAGSTER_HOME": str(prepare_home(tmp_path / "home")),
        "F1_ALERT_WEBHOOK_URL": hook.url,
        "F1_DAGSTER_URL": f"http://127.0.0.1:{ui_port}",
    }.items():
        monkeypatch.setenv(name, value)
    bootstrap_bucket(aws_client("s3"), "f1-ticks", tls_only=False)
    log = tmp_path / "dg-dev.log"

    def ticks() -> list[dict]:
        return [a for a in hook.received if a.get("alert") == "f1-pipeline ticks"]

    try:
        with dagster_dev(log, port=ui_port) as url:
            watched = {"source_data_sensor", "tick_failure_alert_sensor"}
            wait_until(lambda: watched <= _ticked(url), 120, "both sensors' first ticks", log)
            s3.stop()
            [failing] = wait_until(ticks, 120, "the failing alert", log)
            assert failing["instigator"] == "source_data_sensor"
            assert failing["state"] == "failing"
            assert "source_data_sensor its ticks fail: " in failing["text"]
            assert "127.0.0.1" in failing["text"]  # the error names what it could not reach
            s3.start()
            wait_until(lambda: len(ticks()) == 2, 120, "the recovery alert", log)
            assert ticks()[1]["state"] == "recovered"
            wait_until(lambda: "source_data_sensor" in _ticked(url), 60, "a good tick", log)
    finally:
        s3.stop()
        hook.close()
    assert len(ticks()) == 2  # exactly two: once failing, once recovered
    assert hook.received == ticks()  # and no other alert
